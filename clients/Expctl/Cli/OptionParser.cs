namespace Experiments.Expctl.Cli;

/// <summary>An option a leaf command accepts: <c>--name VALUE</c>, <c>--name=VALUE</c>, or a flag.</summary>
public sealed record OptionSpec(string Name, string Description, string? ValueName = null)
{
    public bool TakesValue => ValueName is not null;
}

/// <summary>Parsed options: values by name, flags present.</summary>
public sealed record ParsedOptions(IReadOnlyDictionary<string, string> Values, IReadOnlySet<string> Flags, bool HelpRequested)
{
    public string? Value(string name) => Values.GetValueOrDefault(name);

    public bool Has(string name) => Flags.Contains(name);
}

/// <summary>A small hand-written parser: long options only, no positional arguments.</summary>
public static class OptionParser
{
    public static ParsedOptions Parse(IReadOnlyList<string> arguments, IReadOnlyList<OptionSpec> specs, out string? error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var help = false;
        error = null;

        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (HelpOption.IsHelp(argument))
            {
                help = true;
                continue;
            }

            if (!argument.StartsWith("--", StringComparison.Ordinal))
            {
                error = $"unexpected argument '{argument}'";
                break;
            }

            var equals = argument.IndexOf('=');
            var name = equals > 0 ? argument[2..equals] : argument[2..];
            var spec = specs.FirstOrDefault(s => s.Name == name);
            if (spec is null)
            {
                error = $"unknown option '--{name}'";
                break;
            }

            if (!spec.TakesValue)
            {
                flags.Add(name);
                continue;
            }

            if (equals > 0)
            {
                values[name] = argument[(equals + 1)..];
            }
            else if (i + 1 < arguments.Count)
            {
                values[name] = arguments[++i];
            }
            else
            {
                error = $"option '--{name}' needs a value ({spec.ValueName})";
                break;
            }
        }

        return new ParsedOptions(values, flags, help);
    }

    public static void WriteHelp(TextWriter writer, string path, string description, IReadOnlyList<OptionSpec> specs)
    {
        writer.WriteLine(description);
        writer.WriteLine();
        writer.WriteLine($"Usage: {path} [options]");
        writer.WriteLine();
        writer.WriteLine("Options:");
        var rows = specs.Select(s => (Left: s.TakesValue ? $"--{s.Name} {s.ValueName}" : $"--{s.Name}", s.Description))
            .Append((Left: "-h, --help", Description: "Show this help."))
            .ToList();
        var width = rows.Max(r => r.Left.Length) + 2;
        foreach (var (left, text) in rows)
        {
            writer.WriteLine($"  {left.PadRight(width)}{text}");
        }
    }
}
