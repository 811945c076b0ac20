using System.Text;
using System.Text.RegularExpressions;

namespace Experiments.Gateway.Validation;

/// <summary>Keys of experiments and variants: lowercase letters, digits, '-' and '_', up to 64 characters.</summary>
public static partial class Slug
{
    public const int MaxLength = 64;

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex Valid();

    public static bool IsValid(string key) => Valid().IsMatch(key);

    /// <summary>"Checkout Button (v2)!" becomes "checkout-button-v2".</summary>
    public static string From(string name)
    {
        var slug = new StringBuilder(name.Length);
        foreach (var c in name.Normalize(NormalizationForm.FormKD).ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                slug.Append(c);
            }
            else if ((char.IsWhiteSpace(c) || c is '-' or '_' or '.' or '/') && slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }
        }
        var result = slug.ToString().Trim('-');
        return result.Length > MaxLength ? result[..MaxLength].TrimEnd('-') : result;
    }
}
