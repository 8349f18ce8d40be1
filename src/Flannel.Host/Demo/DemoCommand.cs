namespace Flannel.Host.Demo;

/// <summary>`flanneld demo ...`. Placeholder until the demo lands; it replaces this file.</summary>
public static class DemoCommand
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("demo: not available in this build");
        return 2;
    }
}
