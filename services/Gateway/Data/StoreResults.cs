namespace Experiments.Gateway.Data;

/// <summary>Why a change to an experiment could not be made.</summary>
public enum ChangeFailure
{
    None,
    NotFound,
    WrongStatus,
    DuplicateKey,
    TooFewVariants,
    UnknownVariant,
}

public sealed record ChangeResult<T>(T? Value, ChangeFailure Failure, string? Detail = null)
{
    public static ChangeResult<T> Ok(T value) => new(value, ChangeFailure.None);

    public static ChangeResult<T> Fail(ChangeFailure failure, string detail) => new(default, failure, detail);
}
