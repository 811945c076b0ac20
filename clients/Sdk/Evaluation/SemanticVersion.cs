namespace Experiments.Sdk.Evaluation;

/// <summary>
/// Amplitude's version rule: <c>major.minor(.patch(-prerelease)?)?</c>, as its regex
/// <c>^(\d+)\.(\d+)(\.(\d+)(-(([-\w]+\.?)*))?)?$</c> reads it; parsed without allocating
/// (except for the prerelease text, when there is one).
/// A version with a prerelease sorts before the same version without; prereleases compare as strings.
/// </summary>
public readonly record struct SemanticVersion(double Major, double Minor, double Patch, string? PreRelease)
{
    public static bool TryParse(string? text, out SemanticVersion version)
    {
        version = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }
        var s = text.AsSpan();
        var i = 0;
        if (!Digits(s, ref i, out var major) || i >= s.Length || s[i++] != '.' || !Digits(s, ref i, out var minor))
        {
            return false;
        }
        double patch = 0;
        string? pre = null;
        if (i < s.Length)
        {
            if (s[i++] != '.' || !Digits(s, ref i, out patch))
            {
                return false;
            }
            if (i < s.Length)
            {
                if (s[i++] != '-')
                {
                    return false;
                }
                var rest = s[i..];
                var previousDot = true;
                foreach (var c in rest)
                {
                    if (c == '.')
                    {
                        if (previousDot)
                        {
                            return false;
                        }
                        previousDot = true;
                    }
                    else if (c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-')
                    {
                        previousDot = false;
                    }
                    else
                    {
                        return false;
                    }
                }
                pre = rest.Length == 0 ? null : text[i..];
            }
        }
        version = new SemanticVersion(major, minor, patch, pre);
        return true;
    }

    public int CompareTo(in SemanticVersion other)
    {
        var c = Major.CompareTo(other.Major);
        if (c != 0)
        {
            return c;
        }
        c = Minor.CompareTo(other.Minor);
        if (c != 0)
        {
            return c;
        }
        c = Patch.CompareTo(other.Patch);
        if (c != 0)
        {
            return c;
        }
        return (PreRelease, other.PreRelease) switch
        {
            (null, null) => 0,
            (not null, null) => -1,
            (null, not null) => 1,
            _ => Math.Sign(string.CompareOrdinal(PreRelease, other.PreRelease)),
        };
    }

    private static bool Digits(ReadOnlySpan<char> s, ref int i, out double value)
    {
        value = 0;
        var start = i;
        while (i < s.Length && s[i] is >= '0' and <= '9')
        {
            value = value * 10 + (s[i] - '0');
            i++;
        }
        return i > start;
    }
}
