using System.Globalization;
using Flannel.Demo;
using k8s.Models;

namespace Flannel.MiniKubelet;

/// <summary>
/// Runs one pod with podman as kubelet would: the init containers one after another (each must exit 0, retried with
/// back-off), then every container, each restarted when it exits (restartPolicy Always, back-off 1 s doubling to 10 s),
/// with its readiness probe deciding Ready and its liveness probe stopping it after failureThreshold failures.
/// Every change calls <paramref name="changed"/>; <see cref="Status"/> is what the kubelet reports. Before anything runs,
/// <paramref name="prepare"/> makes the volumes; it is retried (every 2 s) while it fails, e.g. on a Secret that does not
/// exist yet, as kubelet keeps a pod in ContainerCreating until its volumes can be mounted.
/// </summary>
public sealed class PodRunner(V1PodSpec spec, PodContext initial, Func<CancellationToken, Task<PodContext>> prepare, string logDir, Action changed)
{
    private PodContext ctx = initial;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, ContainerState> _init = new();
    private readonly Dictionary<string, ContainerState> _containers = new();
    private readonly DateTime _started = DateTime.UtcNow;
    private Task _run = Task.CompletedTask;
    private string? _error;

    private sealed class ContainerState
    {
        public int Restarts;
        public bool Running;
        public bool Ready;
        public bool Completed;
        public DateTime? StartedAt;
        public int? LastExit;
        public string? Waiting = "ContainerCreating";
    }

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Stops every container with its grace period (SIGTERM, then SIGKILL), as a pod deletion does.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        var names = (spec.Containers ?? []).Select(c => ctx.ContainerName(c.Name)).Concat((spec.InitContainers ?? []).Select(c => ctx.ContainerName(c.Name))).ToList();
        var grace = (spec.TerminationGracePeriodSeconds ?? 30).ToString(CultureInfo.InvariantCulture);
        await Task.WhenAll(names.Select(n => Task.Run(() => Podman.Run(["stop", "-i", "-t", grace, n], TimeSpan.FromMinutes(2)))));
        try { await _run; } catch (OperationCanceledException) { }
        foreach (var n in names) Podman.Run(["rm", "-f", "-i", n]);
    }

    public bool AllReady
    {
        get { lock (_gate) return _containers.Count == (spec.Containers?.Count ?? 0) && _containers.Values.All(c => c.Ready); }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                try
                {
                    ctx = await prepare(ct);
                    break;
                }
                catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException or InvalidOperationException or IOException)
                {
                    var why = e is k8s.Autorest.HttpOperationException h ? $"{(int)h.Response.StatusCode} {h.Response.Content}" : e.Message;
                    lock (_gate) _error = $"MountVolume.SetUp failed: {why}";
                    changed();
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
            }
            lock (_gate) _error = null;
            foreach (var c in spec.InitContainers ?? [])
            {
                var state = new ContainerState();
                lock (_gate) _init[c.Name] = state;
                var backoff = TimeSpan.FromSeconds(1);
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    var name = ctx.ContainerName(c.Name);
                    Podman.Run(["rm", "-f", "-i", name]);
                    var r = Podman.Run(WithLog(ContainerArgs.For(spec, c, ctx, detached: false), c.Name), TimeSpan.FromMinutes(10));
                    Podman.Run(["rm", "-f", "-i", name]);
                    lock (_gate)
                    {
                        state.LastExit = r.ExitCode;
                        state.Completed = r.Ok;
                        state.Waiting = r.Ok ? null : "CrashLoopBackOff";
                        if (!r.Ok) { state.Restarts++; _error = $"init container {c.Name} exited {r.ExitCode}: {r.Stderr.Trim()}"; }
                    }
                    changed();
                    if (r.Ok) break;
                    await Task.Delay(backoff, ct);
                    backoff = Next(backoff);
                }
            }
            lock (_gate) _error = null;
            await Task.WhenAll((spec.Containers ?? []).Select(c => Task.Run(() => RunContainerAsync(c, ct), ct)));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException)
        {
            lock (_gate) _error = e.Message;
            changed();
        }
    }

    private async Task RunContainerAsync(V1Container c, CancellationToken ct)
    {
        var state = new ContainerState();
        lock (_gate) _containers[c.Name] = state;
        var name = ctx.ContainerName(c.Name);
        var backoff = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            Podman.Run(["rm", "-f", "-i", name]);
            var r = Podman.Run(WithLog(ContainerArgs.For(spec, c, ctx, detached: true), c.Name));
            if (!r.Ok)
            {
                lock (_gate) { state.Waiting = "CreateContainerError"; _error = $"{c.Name}: {r.Stderr.Trim()}"; }
                changed();
                await Task.Delay(backoff, ct);
                backoff = Next(backoff);
                continue;
            }
            lock (_gate) { state.Running = true; state.Waiting = null; state.StartedAt = DateTime.UtcNow; state.Ready = c.ReadinessProbe is null; }
            changed();
            using var probes = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var probing = Task.Run(() => ProbeAsync(c, state, name, probes.Token));
            // Blocks until the container exits (it exits on a liveness kill or a pod stop too).
            var wait = await Task.Run(() => Podman.Run(["wait", name], TimeSpan.FromDays(7)));
            await probes.CancelAsync();
            try { await probing; } catch (OperationCanceledException) { }
            var exit = int.TryParse(wait.Stdout.Trim(), out var code) ? code : -1;
            var ranLong = DateTime.UtcNow - state.StartedAt > TimeSpan.FromSeconds(30);
            lock (_gate)
            {
                state.Running = false;
                state.Ready = false;
                state.LastExit = exit;
                if (!ct.IsCancellationRequested) { state.Restarts++; state.Waiting = "CrashLoopBackOff"; }
            }
            changed();
            if (ct.IsCancellationRequested) break;
            if (ranLong) backoff = TimeSpan.FromSeconds(1);
            await Task.Delay(backoff, ct);
            backoff = Next(backoff);
        }
    }

    private async Task ProbeAsync(V1Container c, ContainerState state, string name, CancellationToken ct)
    {
        var readiness = c.ReadinessProbe;
        var liveness = c.LivenessProbe;
        if (readiness is null && liveness is null) return;
        var tasks = new List<Task>();
        if (readiness is not null)
        {
            tasks.Add(Loop(readiness, ok =>
            {
                bool flip;
                lock (_gate) { flip = state.Ready != ok; state.Ready = ok; }
                if (flip) changed();
            }));
        }
        if (liveness is not null)
            tasks.Add(Loop(liveness, ok => { if (!ok) Podman.Run(["stop", "-t", (spec.TerminationGracePeriodSeconds ?? 30).ToString(CultureInfo.InvariantCulture), name]); }));
        await Task.WhenAll(tasks);

        async Task Loop(V1Probe p, Action<bool> verdict)
        {
            await Task.Delay(TimeSpan.FromSeconds(p.InitialDelaySeconds ?? 0), ct);
            int failures = 0, successes = 0;
            while (!ct.IsCancellationRequested)
            {
                var ok = await HttpProbe.CheckAsync(p, c, ctx.NodeIp, ct);
                if (ok) { successes++; failures = 0; } else { failures++; successes = 0; }
                if (ok && successes >= (p.SuccessThreshold ?? 1)) verdict(true);
                if (!ok && failures >= (p.FailureThreshold ?? 3)) verdict(false);
                await Task.Delay(TimeSpan.FromSeconds(p.PeriodSeconds ?? 10), ct);
            }
        }
    }

    private IReadOnlyList<string> WithLog(IReadOnlyList<string> args, string container)
    {
        Directory.CreateDirectory(logDir);
        var list = args.ToList();
        list.InsertRange(1, ["--log-driver", "k8s-file", "--log-opt", $"path={Path.Combine(logDir, container + ".log")}"]);
        return list;
    }

    private static TimeSpan Next(TimeSpan b) => TimeSpan.FromTicks(Math.Min(b.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));

    /// <summary>The pod's status as kubelet reports it.</summary>
    public V1PodStatus Status()
    {
        lock (_gate)
        {
            var initDone = (spec.InitContainers ?? []).All(c => _init.TryGetValue(c.Name, out var s) && s.Completed);
            var all = spec.Containers ?? [];
            var running = initDone && all.All(c => _containers.TryGetValue(c.Name, out var s) && s.Running);
            var ready = running && all.All(c => _containers[c.Name].Ready);
            string T(bool b) => b ? "True" : "False";
            var now = DateTime.UtcNow;
            return new V1PodStatus
            {
                Phase = running ? "Running" : "Pending",
                HostIP = ctx.NodeIp,
                PodIP = ctx.NodeIp,
                PodIPs = [new V1PodIP { Ip = ctx.NodeIp }],
                StartTime = _started,
                Message = _error,
                Conditions =
                [
                    new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = _started },
                    new V1PodCondition { Type = "Initialized", Status = T(initDone), LastTransitionTime = now },
                    new V1PodCondition { Type = "ContainersReady", Status = T(ready), LastTransitionTime = now },
                    new V1PodCondition { Type = "Ready", Status = T(ready), LastTransitionTime = now },
                ],
                InitContainerStatuses = (spec.InitContainers ?? []).Select(c => View(c, _init.GetValueOrDefault(c.Name), init: true)).ToList(),
                ContainerStatuses = all.Select(c => View(c, _containers.GetValueOrDefault(c.Name), init: false)).ToList(),
            };
        }
    }

    private static V1ContainerStatus View(V1Container c, ContainerState? s, bool init)
    {
        var state = new V1ContainerState();
        if (s is { Running: true }) state.Running = new V1ContainerStateRunning { StartedAt = s.StartedAt };
        else if (init && s is { Completed: true }) state.Terminated = new V1ContainerStateTerminated { ExitCode = 0, Reason = "Completed" };
        else state.Waiting = new V1ContainerStateWaiting { Reason = s?.Waiting ?? (init ? "PodInitializing" : "PodInitializing") };
        return new V1ContainerStatus
        {
            Name = c.Name,
            Image = c.Image,
            ImageID = "",
            Ready = s is { Ready: true } || (init && s is { Completed: true }),
            Started = s?.Running ?? false,
            RestartCount = s?.Restarts ?? 0,
            State = state,
            LastState = s?.LastExit is { } e && !(init && s.Completed)
                ? new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = e, Reason = e == 0 ? "Completed" : "Error" } }
                : null,
        };
    }
}
