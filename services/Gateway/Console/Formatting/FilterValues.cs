using System.Text;

namespace Experiments.Gateway.Console.Formatting;

/// <summary>
/// The filter card's values field: comma-separated, each value trimmed; a value in double quotes keeps its commas
/// and spaces (<c>US, "Paris, France"</c>), and <c>""</c> inside quotes is one quote (as in CSV).
/// </summary>
public static class FilterValues
{
    public static IReadOnlyList<string> Parse(string? text)
    {
        var values = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return values;
        }
        var current = new StringBuilder();
        var quoted = false;
        var wasQuoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"' && current.ToString().Trim().Length == 0)
            {
                current.Clear();
                quoted = wasQuoted = true;
            }
            else if (c == ',')
            {
                Add();
            }
            else
            {
                current.Append(c);
            }
        }
        Add();
        return values;

        void Add()
        {
            var value = wasQuoted ? current.ToString() : current.ToString().Trim();
            if (value.Length > 0)
            {
                values.Add(value);
            }
            current.Clear();
            wasQuoted = false;
        }
    }
}
