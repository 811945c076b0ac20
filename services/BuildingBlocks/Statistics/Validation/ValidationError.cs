namespace Experiments.Statistics.Validation;

/// <summary>One problem with a request, naming the field in JSON path form (e.g. <c>variants[1].sum_squares</c>).</summary>
public sealed record ValidationError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>Thrown by the analysis entry points for a request that fails validation.</summary>
public sealed class InvalidStatisticsRequestException(IReadOnlyList<ValidationError> errors)
    : Exception(string.Join("; ", errors))
{
    public IReadOnlyList<ValidationError> Errors { get; } = errors;
}
