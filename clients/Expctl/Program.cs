using Experiments.Expctl.Cli;
using Experiments.Expctl.Stats;

namespace Experiments.Expctl;

/// <summary>The <c>expctl</c> entry point. <see cref="Run"/> is the same program with its streams passed in (for tests).</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.In, Console.Out, Console.Error);

    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error) =>
        CreateRoot().Execute(new CommandContext(input, output, error), args);

    /// <summary>The command tree; later commands (admin, experiments...) are added here as further groups.</summary>
    public static CommandGroup CreateRoot() => new(
        "expctl",
        "Command-line client of the Experiments platform.",
        [StatsCommands.Create()]);
}
