using System.Diagnostics;

namespace Flannel.Cni;

/// <summary>What the delegate printed and how it exited; relayed to the runtime unchanged.</summary>
public sealed record DelegateResult(int ExitCode, byte[] Stdout, string Stderr);

/// <summary>Runs a CNI plugin binary found on CNI_PATH, like libcni's invoke.Delegate*: same environment, new CNI_COMMAND.</summary>
public static class DelegatePlugin
{
    public static string Find(string type, CniEnvironment env)
    {
        if (type.Contains('/') || type is "." or "..")
            throw new CniException(CniErrorCodes.InvalidNetworkConfig, $"invalid delegate plugin type \"{type}\"");
        foreach (var dir in env.SearchPath)
        {
            var candidate = Path.Combine(dir, type);
            if (File.Exists(candidate)) return candidate;
        }
        throw new CniException(CniErrorCodes.Internal,
            $"failed to find plugin \"{type}\" in path [{string.Join(' ', env.SearchPath)}]");
    }

    public static DelegateResult Invoke(string command, string type, byte[] config, CniEnvironment env)
    {
        var psi = new ProcessStartInfo(Find(type, env))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment.Clear();
        foreach (var (k, v) in env.Variables) psi.Environment[k] = v;
        psi.Environment[CniEnvironment.CommandVariable] = command;

        using var p = Process.Start(psi) ?? throw new CniException(CniErrorCodes.Internal, $"could not start delegate plugin {type}");
        var stderrTask = p.StandardError.ReadToEndAsync();
        using var stdout = new MemoryStream();
        var stdoutTask = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        try
        {
            using var stdin = p.StandardInput.BaseStream;
            stdin.Write(config);
        }
        catch (IOException)
        {
            // The delegate exited without reading its config (EPIPE); its exit status and output say what went wrong.
        }
        stdoutTask.GetAwaiter().GetResult();
        var stderr = stderrTask.GetAwaiter().GetResult();
        p.WaitForExit();
        return new DelegateResult(p.ExitCode, stdout.ToArray(), stderr);
    }
}
