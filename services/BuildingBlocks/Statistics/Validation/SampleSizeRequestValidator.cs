using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Validation;

public static class SampleSizeRequestValidator
{
    public static IReadOnlyList<ValidationError> Validate(SampleSizeRequest request)
    {
        var errors = new List<ValidationError>();

        if (request.BaselineRate is not { } baseline)
        {
            errors.Add(new("baseline_rate", "required: a conversion rate strictly between 0 and 1"));
        }
        else if (!(baseline > 0.0 && baseline < 1.0))
        {
            errors.Add(new("baseline_rate", $"must be strictly between 0 and 1, got {baseline}"));
        }

        if (request.RelativeMde is not { } mde)
        {
            errors.Add(new("relative_mde", "required: the relative change to detect, e.g. 0.05 for +5%"));
        }
        else if (!double.IsFinite(mde) || mde == 0.0)
        {
            errors.Add(new("relative_mde", $"must be a non-zero number, got {mde}"));
        }
        else if (request.BaselineRate is { } rate && rate is > 0.0 and < 1.0 && !(rate * (1.0 + mde) is > 0.0 and < 1.0))
        {
            errors.Add(new("relative_mde", $"moves the rate to {rate * (1.0 + mde)}, outside (0, 1)"));
        }

        if (request.ConfidenceLevel is { } confidence && !(confidence > 0.0 && confidence < 1.0))
        {
            errors.Add(new("confidence_level", $"must be strictly between 0 and 1, got {confidence}"));
        }

        if (request.Power is { } power && !(power > 0.0 && power < 1.0))
        {
            errors.Add(new("power", $"must be strictly between 0 and 1, got {power}"));
        }

        if (request.DailyUsers is { } daily && !(daily > 0.0 && double.IsFinite(daily)))
        {
            errors.Add(new("daily_users", $"must be a positive number, got {daily}"));
        }

        if (request.VariantCount is { } count && count < 2)
        {
            errors.Add(new("variant_count", $"must be at least 2, got {count}"));
        }

        return errors;
    }
}
