namespace Experiments.Gateway.Validation;

/// <summary>Collects field errors for a 400 problem response ("errors": {field: [messages]}).</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }
        list.Add(message);
        return this;
    }

    public string? RequireText(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, $"'{field}' is required.");
            return null;
        }
        if (value.Length > maxLength)
        {
            Add(field, $"'{field}' must be at most {maxLength} characters.");
        }
        return value.Trim();
    }

    /// <summary>The analysis settings an analyze request and the saved settings share; null means "not given".</summary>
    public ValidationErrors CheckAnalysisSettings(double? confidenceLevel, string? test, int? cupedWindowDays, string? correction)
    {
        if (confidenceLevel is { } level && (!double.IsFinite(level) || level <= 0.5 || level >= 1))
        {
            Add("confidence_level", "'confidence_level' must be between 0.5 and 1, e.g. 0.95.");
        }
        if (test is not null and not ("sequential" or "ttest"))
        {
            Add("test", "'test' must be 'sequential' or 'ttest'.");
        }
        if (cupedWindowDays is < 1 or > 365)
        {
            Add("cuped_window_days", "'cuped_window_days' must be between 1 and 365.");
        }
        if (correction is not null and not ("none" or "bonferroni" or "holm" or "benjamini_hochberg"))
        {
            Add("correction", "'correction' must be none, bonferroni, holm or benjamini_hochberg.");
        }
        return this;
    }

    public IResult ToProblem() => TypedResults.ValidationProblem(
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray()),
        title: "The request is invalid",
        detail: string.Join(" ", _errors.SelectMany(e => e.Value)));
}
