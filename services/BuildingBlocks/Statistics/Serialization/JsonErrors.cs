using System.Text.Json;
using Experiments.Statistics.Validation;

namespace Experiments.Statistics.Serialization;

/// <summary>Turns a <see cref="JsonException"/> from reading a request into a validation error naming the field.</summary>
public static class JsonErrors
{
    public static ValidationError ToValidationError(JsonException exception)
    {
        var field = FieldName(exception.Path);
        var message = exception.Message;
        if (message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            var unknown = ExtractQuoted(message);
            var named = unknown is null || field.EndsWith(unknown, StringComparison.Ordinal) ? field : Join(field, unknown);
            return new ValidationError(named, "unknown field");
        }

        if (exception.Path is null && exception.LineNumber is { } line)
        {
            return new ValidationError("$", $"malformed JSON at line {line + 1}, byte {exception.BytePositionInLine + 1}");
        }

        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return new ValidationError(field, $"wrong type of value: expected {ExpectedKind(message)}");
        }

        var pathMarker = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return new ValidationError(field, pathMarker >= 0 ? message[..pathMarker] : message);
    }

    /// <summary>"$.variants[1].users" → "variants[1].users"; "$" → "$".</summary>
    public static string FieldName(string? path) => path switch
    {
        null or "" or "$" => "$",
        _ when path.StartsWith("$.", StringComparison.Ordinal) => path[2..],
        _ when path.StartsWith('$') => path[1..],
        _ => path,
    };

    private static string ExpectedKind(string message) => message switch
    {
        _ when message.Contains("Int64", StringComparison.Ordinal) || message.Contains("Int32", StringComparison.Ordinal) => "a whole number",
        _ when message.Contains("Double", StringComparison.Ordinal) => "a number",
        _ when message.Contains("String", StringComparison.Ordinal) => "a string",
        _ when message.Contains("IReadOnlyList", StringComparison.Ordinal) => "an array",
        _ => "an object",
    };

    private static string Join(string field, string member) => field == "$" ? member : $"{field}.{member}";

    private static string? ExtractQuoted(string message)
    {
        var start = message.IndexOf('\'');
        var end = start >= 0 ? message.IndexOf('\'', start + 1) : -1;
        return end > start ? message[(start + 1)..end] : null;
    }
}
