namespace Flannel.Demo;

public static class Program
{
    public static int Main(string[] args) => DemoCommand.Run(args);
}
