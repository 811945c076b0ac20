using System.Net;
using System.Text.RegularExpressions;

namespace Experiments.ClickHouse;

/// <summary>
/// A failed ClickHouse call. <see cref="Code"/> and <see cref="ServerMessage"/> are ClickHouse's
/// own when the server answered with an error; <see cref="IsTransient"/> tells a caller whether
/// trying again later may succeed (server unreachable, overloaded, a 5xx without a ClickHouse code).
/// </summary>
public sealed partial class ClickHouseException : Exception
{
    // Codes that describe load or timing, not the query: retrying later can succeed.
    private static readonly HashSet<int> TransientCodes =
    [
        159, // TIMEOUT_EXCEEDED
        202, // TOO_MANY_SIMULTANEOUS_QUERIES
        203, // NO_FREE_CONNECTION
        209, // SOCKET_TIMEOUT
        210, // NETWORK_ERROR
        242, // TABLE_IS_READ_ONLY
        252, // TOO_MANY_PARTS
    ];

    public ClickHouseException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    private ClickHouseException(
        string message, int? code, string? errorName, string? serverMessage, HttpStatusCode? statusCode,
        bool isTransient, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
        ErrorName = errorName;
        ServerMessage = serverMessage;
        StatusCode = statusCode;
        IsTransient = isTransient;
    }

    /// <summary>ClickHouse's error code (e.g. 60 for an unknown table), when the server sent one.</summary>
    public int? Code { get; }

    /// <summary>The error's name (e.g. <c>UNKNOWN_TABLE</c>), sent by newer servers only.</summary>
    public string? ErrorName { get; }

    /// <summary>ClickHouse's message, e.g. <c>DB::Exception: Table default.t doesn't exist.</c></summary>
    public string? ServerMessage { get; }

    public HttpStatusCode? StatusCode { get; }

    public bool IsTransient { get; }

    /// <summary>An error answer of the server (its HTTP status and body).</summary>
    public static ClickHouseException FromResponse(HttpStatusCode status, string body, string? codeHeader = null)
    {
        var text = body.Trim();
        var match = ErrorPattern().Match(text);
        int? code = match.Success ? int.Parse(match.Groups["code"].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
        if (code is null && int.TryParse(codeHeader, System.Globalization.CultureInfo.InvariantCulture, out var headerCode))
        {
            code = headerCode;
        }

        var serverMessage = match.Success ? Clean(match.Groups["message"].Value) : text;
        var name = match.Success ? NamePattern().Match(match.Groups["message"].Value) : Match.Empty;
        var errorName = name.Success ? name.Groups["name"].Value : null;
        var transient = code is { } c ? TransientCodes.Contains(c) : (int)status >= 500 || status == HttpStatusCode.TooManyRequests;
        var message = code is null
            ? $"ClickHouse answered HTTP {(int)status}: {Shorten(text)}"
            : $"ClickHouse error {code}{(errorName is null ? "" : $" ({errorName})")}: {serverMessage}";
        return new ClickHouseException(message, code, errorName, serverMessage, status, transient, null);
    }

    /// <summary>The server could not be reached or the exchange broke off: worth retrying.</summary>
    public static ClickHouseException Unreachable(Uri endpoint, Exception inner) =>
        new($"ClickHouse at {endpoint} could not be reached: {inner.Message}", null, null, null, null, true, inner);

    // 18.16: "Code: 60, e.displayText() = DB::Exception: Table default.t doesn't exist., e.what() = DB::Exception"
    // 20.x:  "Code: 60, e.displayText() = DB::Exception: Table default.t doesn't exist (version 20.3.1.1)"
    // 21.x+: "Code: 60. DB::Exception: Table default.t does not exist. (UNKNOWN_TABLE) (version 23.8.1.1)"
    [GeneratedRegex(@"^Code:\s*(?<code>\d+)[.,]\s*(?:e\.displayText\(\)\s*=\s*)?(?<message>.*)$", RegexOptions.Singleline)]
    private static partial Regex ErrorPattern();

    [GeneratedRegex(@"\((?<name>[A-Z][A-Z0-9_]+)\)(?:\s*\(version .*\))?\s*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"(?:,\s*e\.what\(\)\s*=\s*\S+\s*$)|(?:\s*\(version .*\)\s*$)")]
    private static partial Regex TailPattern();

    private static string Clean(string message)
    {
        var clean = message.Trim();
        for (var previous = ""; previous != clean;)
        {
            previous = clean;
            clean = TailPattern().Replace(clean, "").Trim();
        }

        return Shorten(clean);
    }

    private static string Shorten(string text) => text.Length <= 2000 ? text : text[..2000] + "…";
}
