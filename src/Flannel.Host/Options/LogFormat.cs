namespace Flannel.Host.Options;

public enum LogFormat
{
    Text,
    Json,
}
