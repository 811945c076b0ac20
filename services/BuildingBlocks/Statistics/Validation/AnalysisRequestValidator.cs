using Experiments.Statistics.Contracts;

namespace Experiments.Statistics.Validation;

/// <summary>
/// Checks that a request describes data that can exist (non-negative counts, a sum of squares
/// possible for the sum, 0/1 values for binary metrics...) and settings that are in range. Every
/// error names its field, so that callers can turn the list into problem details or CLI messages.
/// </summary>
public static class AnalysisRequestValidator
{
    /// <summary>Relative slack for rounding in sums computed upstream.</summary>
    private const double Slack = 1e-9;

    public static IReadOnlyList<ValidationError> Validate(AnalysisRequest request)
    {
        var errors = new List<ValidationError>();

        if (request.MetricType is null)
        {
            errors.Add(new("metric_type", "required: binary or continuous"));
        }

        CheckProbability(errors, "confidence_level", request.ConfidenceLevel);
        CheckProbability(errors, "srm_threshold", request.SrmThreshold);
        CheckPositive(errors, "tau", request.Tau);
        CheckPositive(errors, "sequential_tuning", request.SequentialTuning);

        var variants = request.Variants;
        if (variants is null)
        {
            errors.Add(new("variants", "required: at least two variants"));
            return errors;
        }

        if (variants.Count < 2)
        {
            errors.Add(new("variants", $"at least two variants are needed, got {variants.Count}"));
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < variants.Count; i++)
        {
            var variant = variants[i];
            if (variant is null)
            {
                errors.Add(new($"variants[{i}]", "required: an object"));
                continue;
            }

            if (string.IsNullOrWhiteSpace(variant.Key))
            {
                errors.Add(new($"variants[{i}].key", "required: a non-empty string"));
            }
            else if (!keys.Add(variant.Key))
            {
                errors.Add(new($"variants[{i}].key", $"duplicate key '{variant.Key}'"));
            }

            ValidateVariant(errors, i, variant, request.MetricType);
        }

        ValidateWeights(errors, variants);
        ValidateCovariatePresence(errors, variants);

        if (request.Control is null)
        {
            errors.Add(new("control", "required: the key of the control variant"));
        }
        else if (!keys.Contains(request.Control))
        {
            errors.Add(new("control", $"'{request.Control}' is not the key of any variant"));
        }

        if (request.MinTrafficWeight is { } floor && (!double.IsFinite(floor) || floor < 0.0 || floor * variants.Count > 1.0))
        {
            errors.Add(new("min_traffic_weight", $"must be between 0 and 1/{variants.Count} (one floor per variant must fit in the traffic)"));
        }

        return errors;
    }

    private static void ValidateVariant(List<ValidationError> errors, int index, VariantStatistics variant, MetricType? metricType)
    {
        // Field paths are only formatted when an error is reported: validation runs on every analysis.
        var path = new VariantPath(index, null);
        var valid = true;
        if (variant.Users is not { } users)
        {
            errors.Add(new($"{path}.users", "required: a non-negative integer"));
            valid = false;
            users = 0;
        }
        else if (users < 0)
        {
            errors.Add(new($"{path}.users", $"must be non-negative, got {users}"));
            valid = false;
        }

        valid &= RequireFinite(errors, path, "sum", variant.Sum);
        valid &= RequireFinite(errors, path, "sum_squares", variant.SumSquares);
        if (!valid)
        {
            return;
        }

        var sum = variant.Sum!.Value;
        var sumSquares = variant.SumSquares!.Value;

        if (metricType == MetricType.Binary)
        {
            if (sum < 0.0 || sum > users || Math.Abs(sum - Math.Round(sum)) > Slack * Math.Max(1.0, sum))
            {
                errors.Add(new($"{path}.sum", $"a binary metric's sum counts conversions: a whole number between 0 and users ({users}), got {sum}"));
                return;
            }

            if (Math.Abs(sumSquares - sum) > Slack * Math.Max(1.0, sum))
            {
                errors.Add(new($"{path}.sum_squares", $"impossible for a binary metric: values are 0 or 1, so sum_squares must equal sum ({sum}), got {sumSquares}"));
            }

            return;
        }

        CheckMoments(errors, path, "sum", "sum_squares", users, sum, sumSquares);
    }

    /// <summary>"variants[i]" or "variants[i].covariate", formatted on demand.</summary>
    private readonly record struct VariantPath(int Index, string? Member)
    {
        public override string ToString() => Member is null ? $"variants[{Index}]" : $"variants[{Index}].{Member}";
    }

    /// <summary>Σy² ≥ 0 and (Σy)² ≤ n·Σy² (a sample variance cannot be negative).</summary>
    private static bool CheckMoments(List<ValidationError> errors, VariantPath path, string sumName, string squaresName, long users, double sum, double sumSquares)
    {
        if (sumSquares < 0.0)
        {
            errors.Add(new($"{path}.{squaresName}", $"a sum of squares cannot be negative, got {sumSquares}"));
            return false;
        }

        if (users == 0)
        {
            if (sum != 0.0 || sumSquares != 0.0)
            {
                errors.Add(new($"{path}.{(sum != 0.0 ? sumName : squaresName)}", "must be 0 when users is 0"));
                return false;
            }

            return true;
        }

        if (sum * sum > users * sumSquares * (1.0 + Slack))
        {
            errors.Add(new($"{path}.{squaresName}", $"impossible for {sumName} and users: {sumName}² / users = {sum * sum / users} exceeds {squaresName} = {sumSquares}"));
            return false;
        }

        return true;
    }

    private static void ValidateWeights(List<ValidationError> errors, IReadOnlyList<VariantStatistics> variants)
    {
        var given = 0;
        var total = 0.0;
        for (var i = 0; i < variants.Count; i++)
        {
            if (variants[i]?.ExpectedWeight is not { } weight)
            {
                continue;
            }

            given++;
            if (!double.IsFinite(weight) || weight < 0.0)
            {
                errors.Add(new($"variants[{i}].expected_weight", $"must be a non-negative number, got {weight}"));
                return;
            }

            total += weight;
        }

        if (given == 0)
        {
            return;
        }

        if (given < variants.Count)
        {
            var missing = Enumerable.Range(0, variants.Count).First(i => variants[i]?.ExpectedWeight is null);
            errors.Add(new($"variants[{missing}].expected_weight", "required when any variant gives a weight (omit all weights for equal shares)"));
        }
        else if (!(total > 0.0))
        {
            errors.Add(new("variants[].expected_weight", $"the weights must sum to a positive number, got {total}"));
        }
    }

    private static void ValidateCovariatePresence(List<ValidationError> errors, IReadOnlyList<VariantStatistics> variants)
    {
        var withCovariate = 0;
        foreach (var variant in variants)
        {
            withCovariate += variant?.Covariate is null ? 0 : 1;
        }
        for (var i = 0; i < variants.Count; i++)
        {
            var variant = variants[i];
            if (variant is null)
            {
                continue;
            }

            var path = new VariantPath(i, "covariate");
            if (variant.Covariate is null)
            {
                if (withCovariate > 0)
                {
                    errors.Add(new(path.ToString(), "required when any variant carries a covariate (CUPED needs it on every variant)"));
                }

                continue;
            }

            var covariate = variant.Covariate;
            var valid = RequireFinite(errors, path, "sum", covariate.Sum)
                & RequireFinite(errors, path, "sum_squares", covariate.SumSquares)
                & RequireFinite(errors, path, "sum_product", covariate.SumProduct);
            if (!valid || variant.Users is not { } users || users < 0 || variant.Sum is not { } sum || variant.SumSquares is not { } sumSquares)
            {
                continue;
            }

            if (!CheckMoments(errors, path, "sum", "sum_squares", users, covariate.Sum!.Value, covariate.SumSquares!.Value))
            {
                continue;
            }

            // Cauchy–Schwarz on the centred sums: covariance² ≤ variance_x · variance_y.
            var n = (double)users;
            var sxx = n * covariate.SumSquares.Value - covariate.Sum.Value * covariate.Sum.Value;
            var syy = n * sumSquares - sum * sum;
            var sxy = n * covariate.SumProduct!.Value - covariate.Sum.Value * sum;
            var scale = n * Math.Sqrt(Math.Max(covariate.SumSquares.Value, 0.0) * Math.Max(sumSquares, 0.0));
            if (sxy * sxy > Math.Max(sxx, 0.0) * Math.Max(syy, 0.0) + Slack * scale * scale)
            {
                errors.Add(new($"{path}.sum_product", "impossible for the sums and sums of squares: it implies a correlation beyond ±1"));
            }
        }
    }

    private static bool RequireFinite(List<ValidationError> errors, VariantPath path, string member, double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            return true;
        }

        errors.Add(new($"{path}.{member}", value is null ? "required: a number" : "must be a finite number"));
        return false;
    }

    private static void CheckProbability(List<ValidationError> errors, string field, double? value)
    {
        if (value is { } v && !(v > 0.0 && v < 1.0))
        {
            errors.Add(new(field, $"must be strictly between 0 and 1, got {v}"));
        }
    }

    private static void CheckPositive(List<ValidationError> errors, string field, double? value)
    {
        if (value is { } v && !(v > 0.0 && double.IsFinite(v)))
        {
            errors.Add(new(field, $"must be a positive number, got {v}"));
        }
    }
}
