using System.Reflection;
using Flannel.Host.Agent;
using Flannel.Host.Certs;
using Flannel.Host.Ctl;
using Flannel.Host.Options;

namespace Flannel.Host;

public static class Program
{
    /// <summary>
    /// One binary, three roles: the agent, ctl and certs. The CNI plugin is its own native executable, `flannel`
    /// (src/Flannel.Cni), as upstream's is; the demo and the namespace test topology are `flannel-demo` (src/Flannel.Demo),
    /// so the agent carries no harness code.
    /// </summary>
    public static int Main(string[] args)
    {
        if (CniInvocationGuard.Refusal(Environment.GetEnvironmentVariables()) is { } refusal)
        {
            Console.Out.WriteLine(refusal);
            return 1;
        }
        if (args.Length > 0 && args[0] == "ctl") return CtlCommand.Run(args[1..]);
        if (args.Length > 0 && args[0] == "certs") return CertsCommand.Run(args[1..]);
        return RunAgent(args);
    }

    public static string Version { get; } =
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(Program).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    private static int RunAgent(string[] args)
    {
        FlanneldOptions options;
        try
        {
            options = FlanneldOptions.Parse(args, Environment.GetEnvironmentVariables());
        }
        catch (FlanneldOptionsException e)
        {
            Console.Error.WriteLine($"flanneld: {e.Message}");
            return 1;
        }
        if (options.ShowHelp)
        {
            Console.Out.Write(FlanneldOptions.HelpText());
            return 0;
        }
        if (options.ShowVersion)
        {
            Console.Out.WriteLine(Version);
            return 0;
        }

        // Not disposed: a signal handler already running on its own thread when the registrations below are disposed
        // still calls Cancel, and on a disposed source that threw ObjectDisposedException, unhandled: a second SIGTERM
        // during shutdown made the agent abort (exit 134) after a clean stop (WholeClusterRestartTests, CI 2026-12-01).
        // The source lives as long as the process, so nothing leaks.
        var cts = new CancellationTokenSource();
        // SIGTERM (kubelet, systemd) and Ctrl-C stop the agent gracefully; the runner owns the shutdown order.
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, ctx => { ctx.Cancel = true; cts.Cancel(); });
        return AgentRunner.RunAsync(options, cts.Token).GetAwaiter().GetResult();
    }
}
