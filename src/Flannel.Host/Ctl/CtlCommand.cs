namespace Flannel.Host.Ctl;

/// <summary>`flanneld ctl ...`. Placeholder until the ctl client lands; it replaces this file.</summary>
public static class CtlCommand
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("ctl: not available in this build");
        return 2;
    }
}
