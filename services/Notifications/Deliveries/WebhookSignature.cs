using System.Security.Cryptography;
using System.Text;

namespace Experiments.Notifications.Deliveries;

/// <summary>
/// <c>X-Experiments-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "{t}.{body}")&gt;</c>.
/// Receivers recompute v1 over the raw body, compare in constant time, and reject old timestamps (replays).
/// See docs/notifications.md.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "X-Experiments-Signature";

    public static string Create(string secret, long unixSeconds, ReadOnlySpan<byte> body)
        => $"t={unixSeconds},v1={Compute(secret, unixSeconds, body)}";

    public static string Compute(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{unixSeconds}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Verifies a header against the body: the signature matches and the timestamp is within <paramref name="tolerance"/>.</summary>
    public static bool Verify(string secret, string header, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        long? t = null;
        var candidates = new List<string>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal) && long.TryParse(part[2..], out var parsed))
            {
                t = parsed;
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal))
            {
                candidates.Add(part[3..]);
            }
        }
        if (t is not { } timestamp || Math.Abs(now.ToUnixTimeSeconds() - timestamp) > tolerance.TotalSeconds)
        {
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Compute(secret, timestamp, body));
        return candidates.Any(c => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(c)));
    }
}
