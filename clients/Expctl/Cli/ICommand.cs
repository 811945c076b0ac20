namespace Experiments.Expctl.Cli;

/// <summary>A node of the command tree: a group of subcommands or a leaf that does the work.</summary>
public interface ICommand
{
    string Name { get; }

    /// <summary>One line for the parent's command list.</summary>
    string Summary { get; }

    /// <param name="path">The words that led here, e.g. "expctl stats", for help and messages.</param>
    int Execute(CommandContext context, IReadOnlyList<string> arguments, string path);
}
