using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Experiments.Gateway.Auth;
using Experiments.Gateway.Data;
using Experiments.Gateway.Model;
using Experiments.Gateway.Validation;
using Experiments.Postgres.Configuration;

namespace Experiments.Gateway.Apis;

/// <summary>
/// Who sees an experiment: bucketing unit and salt, traffic allocation, sticky bucketing, targeting segments,
/// testers, variant names/weights/payloads (drafts and stopped experiments only: 409 while running), and
/// mutual-exclusion groups and holdouts. Every change publishes ExperimentChanged (through the outbox, written by
/// <see cref="TargetingStore"/> in the change's transaction) so assignment reloads.
/// </summary>
public static partial class TargetingApi
{
    public const int MaxSegments = 50;
    public const int MaxRules = 50;
    public const int MaxTesters = 10_000;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex GroupType();

    public static RouteGroupBuilder MapTargetingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/admin").RequireAuthorization().WithTags("Targeting");
        api.MapGet("/experiments/{id:guid}/targeting", GetTargeting).WithName("GetTargeting");
        api.MapPut("/experiments/{id:guid}/targeting", UpdateTargeting).WithName("UpdateTargeting");
        api.MapPut("/experiments/{id:guid}/testers", UpdateTesters).WithName("UpdateTesters");
        api.MapPatch("/experiments/{id:guid}/variants/{key}", UpdateVariant).WithName("UpdateVariant");
        api.MapGet("/exclusion-groups", ListGroups).WithName("ListExclusionGroups");
        api.MapPost("/exclusion-groups", CreateGroup).WithName("CreateExclusionGroup");
        api.MapPut("/exclusion-groups/{id:guid}/experiments/{experimentId:guid}", AddMember).WithName("AddExclusionGroupMember");
        api.MapDelete("/exclusion-groups/{id:guid}/experiments/{experimentId:guid}", RemoveMember).WithName("RemoveExclusionGroupMember");
        return api;
    }

    private static async Task<IResult> GetTargeting(Guid id, ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
        => await store.GetAsync(user.ProjectId(), id, ct) is { } targeting ? TypedResults.Ok(targeting) : ExperimentsApi.NotFound(id);

    private static async Task<IResult> UpdateTargeting(
        Guid id, UpdateTargetingRequest request, ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (request.BucketingUnit is { } unit && !IsBucketingUnit(unit))
        {
            errors.Add("bucketing_unit", "'bucketing_unit' must be 'user_id', 'device_id' or a group type (lowercase letters, digits, '_'), e.g. 'company_id'.");
        }
        if (request.BucketingSalt is { } salt && (salt.Length is 0 or > 200 || salt.Contains('/', StringComparison.Ordinal)))
        {
            errors.Add("bucketing_salt", "'bucketing_salt' must be 1-200 characters without '/'.");
        }
        if (request.TrafficAllocation is { } allocation && allocation is < 0 or > 100)
        {
            errors.Add("traffic_allocation", "'traffic_allocation' must be a whole percentage from 0 to 100.");
        }
        ValidateSegments(request.Segments, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await store.UpdateAsync(user.ProjectId(), id, "update_targeting", "targeting_updated", user.Actor(), current =>
        {
            var running = current.Status == ExperimentStatuses.Running;
            if (running && ((request.BucketingUnit is { } u && u != current.BucketingUnit) || (request.BucketingSalt is { } s && s != current.BucketingSalt)))
            {
                return (null, ChangeFailure.WrongStatus, "The bucketing unit and salt of a running experiment cannot change: every user would move. Stop it first.");
            }
            var segments = request.Segments?.Select(s => s!).ToList() ?? current.Segments;
            if (segments.Select(s => s.Variant).OfType<string>().FirstOrDefault(v => current.Variants.All(x => x.Key != v)) is { } unknown)
            {
                return (null, ChangeFailure.UnknownVariant, $"Variant '{unknown}' named by a segment is not one of the experiment's: {string.Join(", ", current.Variants.Select(v => v.Key))}.");
            }
            return (current with
            {
                BucketingUnit = request.BucketingUnit ?? current.BucketingUnit,
                BucketingSalt = request.BucketingSalt ?? current.BucketingSalt,
                TrafficAllocation = request.TrafficAllocation ?? current.TrafficAllocation,
                StickyBucketing = request.StickyBucketing ?? current.StickyBucketing,
                Segments = segments,
            }, ChangeFailure.None, null);
        }, ct);
        return Updated(result);
    }

    private static async Task<IResult> UpdateTesters(
        Guid id, UpdateTestersRequest request, ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (request.Testers is null)
        {
            errors.Add("testers", "'testers' is required: a list of {variant, user_ids, device_ids} (empty to remove every tester).");
        }
        else
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < request.Testers.Count; i++)
            {
                var t = request.Testers[i];
                var field = $"testers[{i}]";
                if (t is null || string.IsNullOrWhiteSpace(t.Variant))
                {
                    errors.Add($"{field}.variant", $"'{field}.variant' is required.");
                    continue;
                }
                if ((t.UserIds?.Count ?? 0) + (t.DeviceIds?.Count ?? 0) == 0)
                {
                    errors.Add(field, $"'{field}' needs 'user_ids' or 'device_ids'.");
                }
                foreach (var (kind, ids) in new[] { ("user_ids", t.UserIds), ("device_ids", t.DeviceIds) })
                {
                    foreach (var tester in ids ?? [])
                    {
                        if (string.IsNullOrWhiteSpace(tester) || tester.Length > 1024)
                        {
                            errors.Add($"{field}.{kind}", $"'{field}.{kind}' holds an empty or too long id.");
                        }
                        else if (seen.TryGetValue($"{kind}:{tester}", out var other) && other != t.Variant)
                        {
                            errors.Add($"{field}.{kind}", $"'{tester}' is pinned to both '{other}' and '{t.Variant}'.");
                        }
                        else
                        {
                            seen[$"{kind}:{tester}"] = t.Variant;
                        }
                    }
                }
            }
            if (seen.Count > MaxTesters)
            {
                errors.Add("testers", $"At most {MaxTesters} testers per experiment.");
            }
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await store.UpdateAsync(user.ProjectId(), id, "update_testers", "testers_updated", user.Actor(), current =>
        {
            var testers = request.Testers!.Select(t => t!).ToList();
            if (testers.FirstOrDefault(t => current.Variants.All(v => v.Key != t.Variant)) is { } unknown)
            {
                return (null, ChangeFailure.UnknownVariant, $"Variant '{unknown.Variant}' is not one of the experiment's: {string.Join(", ", current.Variants.Select(v => v.Key))}.");
            }
            return (current with { Testers = testers }, ChangeFailure.None, null);
        }, ct);
        return Updated(result);
    }

    private static async Task<IResult> UpdateVariant(
        Guid id, string key, UpdateVariantRequest request, ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (request.Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > 200))
        {
            errors.Add("name", "'name' must be 1-200 characters.");
        }
        if (request.TrafficWeight is { } weight && (!double.IsFinite(weight) || weight <= 0 || weight > 1_000_000))
        {
            errors.Add("traffic_weight", "'traffic_weight' must be a positive number (weights are relative to each other).");
        }
        if (request.Payload.ValueKind != JsonValueKind.Undefined && request.Payload.GetRawText().Length > 64 * 1024)
        {
            errors.Add("payload", "'payload' must be at most 64 KiB of JSON.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await store.UpdateAsync(user.ProjectId(), id, "update_variant", "variant_updated", user.Actor(), current =>
        {
            if (current.Status == ExperimentStatuses.Running)
            {
                return (null, ChangeFailure.WrongStatus, "The variants of a running experiment cannot be edited: users would change variant. Stop it first.");
            }
            var variant = current.Variants.FirstOrDefault(v => v.Key == key);
            if (variant is null)
            {
                return (null, ChangeFailure.UnknownVariant, $"The experiment has no variant '{key}'.");
            }
            var updated = variant with
            {
                Name = request.Name?.Trim() ?? variant.Name,
                TrafficWeight = request.TrafficWeight ?? variant.TrafficWeight,
                Payload = request.Payload.ValueKind switch { JsonValueKind.Undefined => variant.Payload, JsonValueKind.Null => null, _ => request.Payload.Clone() },
            };
            return (current with { Variants = current.Variants.Select(v => v.Key == key ? updated : v).ToList() }, ChangeFailure.None, null);
        }, ct);
        return Updated(result);
    }

    private static async Task<IResult> ListGroups(ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
        => TypedResults.Ok(await store.ListGroupsAsync(user.ProjectId(), ct));

    private static async Task<IResult> CreateGroup(CreateExclusionGroupRequest request, ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = errors.RequireText("name", request.Name, 200);
        var key = request.Key?.Trim() ?? (name is null ? null : Slug.From(name));
        if (key is not null && !Slug.IsValid(key))
        {
            errors.Add("key", "'key' must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit.");
        }
        if (request.Kind is not (ExclusionGroupKinds.MutualExclusion or ExclusionGroupKinds.Holdout))
        {
            errors.Add("kind", "'kind' must be 'mutual_exclusion' or 'holdout'.");
        }
        if (request.Kind == ExclusionGroupKinds.Holdout && request.HoldoutPercent is not (>= 1 and <= 99))
        {
            errors.Add("holdout_percent", "'holdout_percent' (1-99) is required for a holdout.");
        }
        if (request.BucketingUnit is { } unit && !IsBucketingUnit(unit))
        {
            errors.Add("bucketing_unit", "'bucketing_unit' must be 'user_id', 'device_id' or a group type.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        if (ExperimentsApi.Forbidden(user, request.ProjectId) is { } forbidden)
        {
            return forbidden;
        }
        var result = await store.CreateGroupAsync(user.ProjectId(), key!, name!, request.Kind!, request.HoldoutPercent ?? 0,
            request.BucketingUnit ?? BucketingUnits.UserId, user.Actor(), ct);
        return result.Value is { } created ? TypedResults.Created($"/v1/admin/exclusion-groups/{created.Id}", created) : Failure(result);
    }

    private static async Task<IResult> AddMember(
        Guid id, Guid experimentId, HttpRequest http, ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
    {
        var request = http.ContentLength is > 0 ? await http.ReadFromJsonAsync<AddExclusionMemberRequest>(ct) : null;
        if (request?.Weight is { } weight && (!double.IsFinite(weight) || weight <= 0 || weight > 1_000_000))
        {
            return new ValidationErrors().Add("weight", "'weight' must be a positive number (the member's share of the group's users).").ToProblem();
        }
        var result = await store.SetMemberAsync(user.ProjectId(), id, experimentId, request?.Weight, remove: false, user.Actor(), ct);
        return result.Value is { } group ? TypedResults.Ok(group) : Failure(result);
    }

    private static async Task<IResult> RemoveMember(
        Guid id, Guid experimentId, ClaimsPrincipal user, TargetingStore store, CancellationToken ct)
    {
        var result = await store.SetMemberAsync(user.ProjectId(), id, experimentId, null, remove: true, user.Actor(), ct);
        return result.Value is { } group ? TypedResults.Ok(group) : Failure(result);
    }

    private static bool IsBucketingUnit(string unit) => unit is BucketingUnits.UserId or BucketingUnits.DeviceId || GroupType().IsMatch(unit);

    private static void ValidateSegments(IReadOnlyList<TargetingSegment?>? segments, ValidationErrors errors)
    {
        if (segments is null)
        {
            return;
        }
        if (segments.Count > MaxSegments)
        {
            errors.Add("segments", $"At most {MaxSegments} segments.");
        }
        for (var i = 0; i < segments.Count; i++)
        {
            var field = $"segments[{i}]";
            var segment = segments[i];
            if (segment is null)
            {
                errors.Add(field, $"'{field}' is null.");
                continue;
            }
            errors.RequireText($"{field}.name", segment.Name, 200);
            if (segment.TrafficAllocation is { } allocation && allocation is < 0 or > 100)
            {
                errors.Add($"{field}.traffic_allocation", $"'{field}.traffic_allocation' must be a whole percentage from 0 to 100.");
            }
            if (segment.Rules is not { Count: > 0 and <= MaxRules })
            {
                errors.Add($"{field}.rules", $"'{field}.rules' must hold 1-{MaxRules} rules (AND).");
                continue;
            }
            for (var r = 0; r < segment.Rules.Count; r++)
            {
                var ruleField = $"{field}.rules[{r}]";
                var rule = segment.Rules[r];
                if (rule is null)
                {
                    errors.Add(ruleField, $"'{ruleField}' is null.");
                    continue;
                }
                if (string.IsNullOrWhiteSpace(rule.Property) || rule.Property.Length > 200)
                {
                    errors.Add($"{ruleField}.property", $"'{ruleField}.property' is required: a user property, user_id, device_id, user.<field> or group.<type>.");
                }
                if (rule.Operator is null || !TargetingOperators.All.Contains(rule.Operator))
                {
                    errors.Add($"{ruleField}.operator", $"'{ruleField}.operator' must be one of: {string.Join(", ", TargetingOperators.All)}.");
                    continue;
                }
                if (rule.Values is not { Count: > 0 } values || values.Any(v => v is null))
                {
                    errors.Add($"{ruleField}.values", $"'{ruleField}.values' must hold at least one value.");
                    continue;
                }
                if (rule.Operator is "less" or "less or equal" or "greater" or "greater or equal"
                    && values.Any(v => !double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)))
                {
                    errors.Add($"{ruleField}.values", $"'{ruleField}.values' must be numbers for '{rule.Operator}'.");
                }
                if (rule.Operator.StartsWith("version ", StringComparison.Ordinal) && values.Any(v => !Sdk.Evaluation.SemanticVersion.TryParse(v, out _)))
                {
                    errors.Add($"{ruleField}.values", $"'{ruleField}.values' must be versions (major.minor[.patch[-prerelease]]) for '{rule.Operator}'.");
                }
                if (rule.Operator.StartsWith("regex", StringComparison.Ordinal))
                {
                    foreach (var v in values)
                    {
                        try
                        {
                            _ = new Regex(v);
                        }
                        catch (ArgumentException)
                        {
                            errors.Add($"{ruleField}.values", $"'{v}' is not a valid regular expression.");
                        }
                    }
                }
            }
        }
    }

    private static IResult Updated(ChangeResult<Targeting> result) => result.Value is { } targeting ? TypedResults.Ok(targeting) : Failure(result);

    private static IResult Failure<T>(ChangeResult<T> result) => result.Failure switch
    {
        ChangeFailure.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: result.Detail),
        ChangeFailure.WrongStatus => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not allowed in this status", detail: result.Detail),
        ChangeFailure.DuplicateKey => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Duplicate key", detail: result.Detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["key"] = [result.Detail!] } }),
        ChangeFailure.UnknownVariant => new ValidationErrors().Add("variant", result.Detail!).ToProblem(),
        _ => throw new InvalidOperationException($"Unexpected failure {result.Failure}."),
    };
}
