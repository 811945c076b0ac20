using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Expctl.Cli;
using Experiments.Statistics.Serialization;
using Experiments.Statistics.Validation;

namespace Experiments.Expctl.Stats;

/// <summary>
/// Reads one JSON request or an array of them, answers each independently, and writes the result
/// or array of results in the same order. A bad request gets an <c>{"error": {...}}</c> object in its
/// slot and a message on stderr naming the field; the others still get their results; the exit
/// code is then <see cref="ExitCodes.InvalidInput"/>.
/// </summary>
public static class JsonBatch
{
    public const string InputOption = "input";
    public const string CompactOption = "compact";

    public static IReadOnlyList<OptionSpec> Options { get; } =
    [
        new(InputOption, "Read the request(s) from FILE instead of standard input.", "FILE"),
        new(CompactOption, "Write compact JSON instead of indented."),
    ];

    public static int Run<TRequest, TResult>(
        CommandContext context,
        ParsedOptions options,
        string path,
        Func<TRequest, IReadOnlyList<ValidationError>> validate,
        Func<TRequest, TResult> compute)
        where TRequest : class
    {
        string text;
        var file = options.Value(InputOption);
        try
        {
            text = file is null ? context.Input.ReadToEnd() : File.ReadAllText(file);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"{path}: cannot read '{file}': {exception.Message}");
            return ExitCodes.Usage;
        }

        var serializerOptions = options.Has(CompactOption) ? StatisticsJson.Options : StatisticsJson.Indented;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException exception)
        {
            var error = JsonErrors.ToValidationError(exception);
            Report(context, path, null, [error]);
            Write(context, ErrorNode([error]), serializerOptions);
            return ExitCodes.InvalidInput;
        }

        using (document)
        {
            var root = document.RootElement;
            var failed = false;
            if (root.ValueKind == JsonValueKind.Array)
            {
                var results = new JsonArray();
                var index = 0;
                foreach (var element in root.EnumerateArray())
                {
                    results.Add(Answer(context, path, index++, element, validate, compute, ref failed));
                }

                Write(context, results, serializerOptions);
            }
            else
            {
                Write(context, Answer(context, path, null, root, validate, compute, ref failed), serializerOptions);
            }

            return failed ? ExitCodes.InvalidInput : ExitCodes.Success;
        }
    }

    private static JsonNode? Answer<TRequest, TResult>(
        CommandContext context,
        string path,
        int? index,
        JsonElement element,
        Func<TRequest, IReadOnlyList<ValidationError>> validate,
        Func<TRequest, TResult> compute,
        ref bool failed)
        where TRequest : class
    {
        IReadOnlyList<ValidationError> errors;
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors = [new ValidationError("$", "expected a request object")];
        }
        else
        {
            try
            {
                var request = element.Deserialize<TRequest>(StatisticsJson.Options)!;
                errors = validate(request);
                if (errors.Count == 0)
                {
                    return JsonSerializer.SerializeToNode(compute(request), StatisticsJson.Options);
                }
            }
            catch (JsonException exception)
            {
                errors = [JsonErrors.ToValidationError(exception)];
            }
            catch (InvalidStatisticsRequestException exception)
            {
                errors = exception.Errors;
            }
        }

        failed = true;
        Report(context, path, index, errors);
        return ErrorNode(errors);
    }

    private static JsonObject ErrorNode(IReadOnlyList<ValidationError> errors)
    {
        var details = new JsonArray();
        foreach (var error in errors)
        {
            details.Add(new JsonObject { ["field"] = error.Field, ["message"] = error.Message });
        }

        return new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = string.Join("; ", errors),
                ["fields"] = details,
            },
        };
    }

    private static void Report(CommandContext context, string path, int? index, IReadOnlyList<ValidationError> errors)
    {
        var where = index is null ? "" : $" request [{index}]:";
        foreach (var error in errors)
        {
            context.Error.WriteLine($"{path}:{where} {error}");
        }
    }

    private static void Write(CommandContext context, JsonNode? node, JsonSerializerOptions options)
    {
        context.Output.WriteLine(node?.ToJsonString(options) ?? "null");
    }
}
