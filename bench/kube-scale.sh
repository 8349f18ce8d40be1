#!/usr/bin/env bash
# Kubernetes at scale: bench/kube-scale.sh. Needs root (network namespaces).
# The test API server (inside an underlay namespace) with NODES Nodes (default 1000, realistic ~4 KB objects with
# flannel's annotations, podCIDRs 10.129.0.0/24... in Network 10.128.0.0/9) and ONE flanneld --kube-subnet-mgr (vxlan,
# mutual TLS, in its own namespace on 198.18.0.0/24). First the same agent with only its own Node as the baseline.
# Then: initial sync (exec until the agent's node watcher holds every Node, read from its /metrics), RSS, and churn:
# CHURN_RATE Node writes per second (default 50) for CHURN_SECONDS (default 60) - heartbeats, labels, flannel
# annotations, deletions, new nodes - and the lag from the last write until the agent has applied it.
# Progress on stderr; one JSON line on stdout:
#   {"nodes":..,"initial_sync_s":..,"list_s":..,"ready_s":..,"baseline_sync_s":..,"baseline_list_s":..,"baseline_ready_s":..,
#    "rss_before_mib":..,"baseline_settled_s":..,"baseline_rss_settled_mib":..,"baseline_anon_settled_mib":..,
#    "baseline_threads_settled":..,"baseline_idle_cpu_pct":..,"rss_after_sync_mib":..,"rss_after_churn_mib":..,"churn_updates":..,"churn_failed":..,"churn_rate_per_s":..,
#    "final_lag_s":..,"max_backlog_events":..,"consistent":..,"cpu_s":..,"cpu_idle_per_s":..,"cpu_per_update_ms":..,
#    "cpu_sync_s":..,"api_server_cpu_s":..,"api_write_p50_ms":..,"api_write_p99_ms":..,"create_nodes_per_s":..,
#    "heap_*_mib":..,"load":".."}
# rss_before_mib is the baseline agent's RSS (1 Node) at the same point (ready + 3 s); baseline_*_settled the same agent
# BASELINE_SETTLE_SECONDS (default 90) after that, past its start-up page release (RSS, RssAnon+RssShmem, threads),
# and baseline_idle_cpu_pct its CPU from 30 s after ready to then, unscraped; cpu_s is the agent's CPU during
# churn; cpu_per_update_ms = (cpu_s - the idle rate, measured over 10 s after it, x churn time) / updates.
# initial_sync_s uses the agent's own timestamp of its first complete list (flannel_kube_node_list_timestamp_seconds);
# list_s is that list's own duration in the agent (flannel_kube_node_list_duration_seconds): the rest is start-up.
# heap_*_mib: the agent's GC heap (dotnet_total_memory_bytes, garbage included). KEEP_LOGS=dir keeps the agent's log;
# GCDUMP=dir writes heap dumps at each point (needs dotnet-gcdump on PATH). FLANNELD=path benches another flanneld build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "kube-scale: run as root" >&2; exit 1; fi
dotnet build bench/Flannel.Bench.KubeScale -c Release -nologo -v q "-clp:ErrorsOnly" >&2
# The topology sets up its hosts' CNI config with the native `flannel` CNI plugin, which `dotnet build` does not make.
plugin="$(./scripts/cni-plugin.sh)"
export FLANNEL_CNI_PLUGIN="$plugin"
export FLANNEL_KUBE_TEST_SERVER="$PWD/tests/Flannel.Kube.TestServer/bin/Release/net10.0/kube-test-server"
exec bench/Flannel.Bench.KubeScale/bin/Release/net10.0/Flannel.Bench.KubeScale "$@"
