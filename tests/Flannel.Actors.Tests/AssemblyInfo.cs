using Xunit;

// Each test runs whole in-process clusters with tight failure-detector timings; on a 2-core machine running them in
// parallel would make heartbeats miss their deadlines.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
