namespace Flannel.Host;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("flanneld: not wired yet");
        return 1;
    }
}
