namespace Experiments.Expctl.Cli;

/// <summary>A command that does the work: parses its options, answers --help, then runs.</summary>
public abstract class LeafCommand : ICommand
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    /// <summary>Help text above the options list.</summary>
    protected abstract string Description { get; }

    protected abstract IReadOnlyList<OptionSpec> Options { get; }

    public int Execute(CommandContext context, IReadOnlyList<string> arguments, string path)
    {
        var options = OptionParser.Parse(arguments, Options, out var error);
        if (options.HelpRequested)
        {
            OptionParser.WriteHelp(context.Output, path, Description, Options);
            return ExitCodes.Success;
        }

        if (error is not null)
        {
            context.Error.WriteLine($"{path}: {error}. Run '{path} --help' for usage.");
            return ExitCodes.Usage;
        }

        return Run(context, options, path);
    }

    protected abstract int Run(CommandContext context, ParsedOptions options, string path);
}
