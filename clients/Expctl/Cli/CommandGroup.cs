namespace Experiments.Expctl.Cli;

/// <summary>A command made of subcommands: dispatches on the first word, prints help for itself.</summary>
public sealed class CommandGroup(string name, string summary, IReadOnlyList<ICommand> subcommands) : ICommand
{
    public string Name => name;

    public string Summary => summary;

    public IReadOnlyList<ICommand> Subcommands => subcommands;

    /// <summary>Runs the group as the root of the tree.</summary>
    public int Execute(CommandContext context, IReadOnlyList<string> arguments) => Execute(context, arguments, name);

    public int Execute(CommandContext context, IReadOnlyList<string> arguments, string path)
    {
        if (arguments.Count == 0)
        {
            WriteHelp(context.Error, path);
            return ExitCodes.Usage;
        }

        var first = arguments[0];
        if (HelpOption.IsHelp(first))
        {
            WriteHelp(context.Output, path);
            return ExitCodes.Success;
        }

        foreach (var command in subcommands)
        {
            if (command.Name == first)
            {
                return command.Execute(context, [.. arguments.Skip(1)], $"{path} {command.Name}");
            }
        }

        context.Error.WriteLine($"{path}: unknown command '{first}'. Run '{path} --help' for the list.");
        return ExitCodes.Usage;
    }

    private void WriteHelp(TextWriter writer, string path)
    {
        writer.WriteLine(summary);
        writer.WriteLine();
        writer.WriteLine($"Usage: {path} <command> [options]");
        writer.WriteLine();
        writer.WriteLine("Commands:");
        var width = subcommands.Max(c => c.Name.Length) + 2;
        foreach (var command in subcommands)
        {
            writer.WriteLine($"  {command.Name.PadRight(width)}{command.Summary}");
        }

        writer.WriteLine();
        writer.WriteLine($"Run '{path} <command> --help' for a command's options.");
    }
}
