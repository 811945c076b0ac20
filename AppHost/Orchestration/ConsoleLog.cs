namespace Experiments.AppHost;

/// <summary>Every line on the console prefixed by who said it, each source in its own colour.</summary>
public static class ConsoleLog
{
    private static readonly ConsoleColor[] Palette =
        [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Yellow, ConsoleColor.Magenta, ConsoleColor.Blue, ConsoleColor.DarkCyan, ConsoleColor.DarkYellow];
    private static readonly Dictionary<string, ConsoleColor> Colors = [];
    private static readonly Lock Sync = new();

    public static void Write(string source, string line)
    {
        lock (Sync)
        {
            if (!Colors.TryGetValue(source, out var color))
            {
                Colors[source] = color = Palette[Colors.Count % Palette.Length];
            }
            var previous = Console.ForegroundColor;
            Console.ForegroundColor = color;
            Console.Write($"{source,-13}| ");
            Console.ForegroundColor = previous;
            Console.WriteLine(line);
        }
    }
}
