namespace Experiments.Expctl.Cli;

/// <summary>The streams a command reads and writes; the real console in production, strings in tests.</summary>
public sealed record CommandContext(TextReader Input, TextWriter Output, TextWriter Error);

public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Some input was invalid (results for the valid parts were still written).</summary>
    public const int InvalidInput = 1;

    /// <summary>Unknown command or option, missing option value, unreadable file.</summary>
    public const int Usage = 2;
}
