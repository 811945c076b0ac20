using System.Text;
using Experiments.Assignment.Configuration;
using Experiments.Postgres.Configuration;
using Experiments.Sdk.Evaluation;

namespace Experiments.Assignment.Tests;

/// <summary>The evaluation engine over flags built from the configuration model: hashing, splits, testers, segments, exclusion.</summary>
public sealed class EngineTests
{
    [Theory]
    [InlineData("brian", 3948467465u)]
    [InlineData("a", 479943832u)]
    [InlineData("a-horizon", 1667709009u)]
    [InlineData("a-ok", 821871466u)]
    [InlineData("aardvark", 3407736416u)]
    public void Murmur3_matches_the_published_vectors(string input, uint expected)
        => Assert.Equal(expected, Murmur3.Hash32(Encoding.UTF8.GetBytes(input), 0x7f3a21ea));

    [Fact]
    public void Splits_over_100000_users_are_within_sampling_error_of_the_weights()
    {
        var flags = Compile(Experiment("split", [("a", 50), ("b", 30), ("c", 20)]));
        var counts = Count(flags, "split", 100_000);
        // Chi-square with 2 degrees of freedom; 13.82 is the 0.999 quantile.
        var chi = ChiSquare(counts, new() { ["a"] = 0.5, ["b"] = 0.3, ["c"] = 0.2 }, 100_000);
        Assert.True(chi < 13.82, $"chi-square {chi:F2} for {string.Join(", ", counts)}");
    }

    [Fact]
    public void Traffic_allocation_admits_its_share_and_the_rest_get_the_default_variant()
    {
        var flags = Compile(Experiment("alloc", [("a", 1), ("b", 1)]) with { TrafficAllocation = 30 });
        var counts = Count(flags, "alloc", 100_000);
        var chi = ChiSquare(counts, new() { ["a"] = 0.15, ["b"] = 0.15, ["off"] = 0.7 }, 100_000);
        Assert.True(chi < 13.82, $"chi-square {chi:F2} for {string.Join(", ", counts)}");
    }

    [Fact]
    public void Testers_get_their_pinned_variant_before_targeting_and_bucketing()
    {
        var flags = Compile(Experiment("pinned", [("a", 1), ("b", 1)]) with
        {
            TrafficAllocation = 0,
            Testers = [new TesterGroup("b", UserIds: ["qa-1", "qa-2"], DeviceIds: ["dev-9"])],
        });
        Assert.Equal("b", Evaluate(flags, "pinned", new EvaluationUser("qa-1"))?.Key);
        Assert.Equal("b", Evaluate(flags, "pinned", new EvaluationUser("someone", "dev-9"))?.Key);
        Assert.Equal("off", Evaluate(flags, "pinned", new EvaluationUser("qa-3"))?.Key);
    }

    [Fact]
    public void Segments_are_tried_in_order_with_every_rule_of_a_segment_required()
    {
        var flags = Compile(Experiment("targeted", [("a", 1), ("b", 1)]) with
        {
            Segments =
            [
                new TargetingSegment("us on new app", [new("user.country", "is", ["US"]), new("app_version", "version greater or equal", ["2.10.0"])], Variant: "b"),
                new TargetingSegment("staff", [new("email", "starts with", ["admin+"])], Variant: "a"),
                new TargetingSegment("pro plans", [new("plans", "set contains any", ["pro", "team"]), new("age", "greater", ["17"])], TrafficAllocation: 100),
            ],
        });
        static EvaluationUser User(string id, string? country, params (string, string)[] properties)
            => new(id, null, properties.ToDictionary(p => p.Item1, p => p.Item2), null, country is null ? null : new Dictionary<string, string> { ["country"] = country });

        Assert.Equal("b", Evaluate(flags, "targeted", User("u1", "US", ("app_version", "2.10.1")))?.Key);
        Assert.Equal("off", Evaluate(flags, "targeted", User("u2", "US", ("app_version", "2.9.9")))?.Key);
        Assert.Equal("a", Evaluate(flags, "targeted", User("u3", "FR", ("email", "admin+x@example.com")))?.Key);
        Assert.Equal("off", Evaluate(flags, "targeted", User("u4", "FR", ("email", "x.admin+@example.com")))?.Key);
        Assert.Contains(Evaluate(flags, "targeted", User("u5", null, ("plans", """["free","pro"]"""), ("age", "30")))?.Key, new[] { "a", "b" });
        Assert.Equal("off", Evaluate(flags, "targeted", User("u6", null, ("plans", """["free","pro"]"""), ("age", "12")))?.Key);
        // First match wins: a US user on the new app who is also staff gets the first segment's variant.
        Assert.Equal("b", Evaluate(flags, "targeted", User("u7", "US", ("app_version", "3.0"), ("email", "admin+y@example.com")))?.Key);
    }

    [Fact]
    public void Group_bucketing_gives_a_whole_organisation_one_variant()
    {
        var flags = Compile(Experiment("org", [("a", 1), ("b", 1), ("c", 1)]) with { BucketingUnit = "company_id" });
        var groups = new Dictionary<string, string> { ["company_id"] = "acme" };
        var variants = Enumerable.Range(0, 50).Select(i => Evaluate(flags, "org", new EvaluationUser($"member-{i}", Groups: groups))?.Key).Distinct().ToList();
        Assert.Single(variants);
        Assert.Equal("off", Evaluate(flags, "org", new EvaluationUser("loner"))?.Key);
    }

    [Fact]
    public void Mutual_exclusion_keeps_users_in_at_most_one_member_and_holdouts_keep_their_share_out()
    {
        var one = Experiment("mx-one", [("a", 1), ("b", 1)]);
        var two = Experiment("mx-two", [("a", 1), ("b", 1)]);
        var held = Experiment("held", [("a", 1), ("b", 1)]);
        var groups = new[]
        {
            new ExclusionGroupConfig(Guid.NewGuid(), "p", "checkout", "checkout", ExclusionGroupKinds.MutualExclusion, "user_id", "mx-checkout",
                0, [new(one.Id, one.Key, 1), new(two.Id, two.Key, 1)]),
            new ExclusionGroupConfig(Guid.NewGuid(), "p", "global", "global", ExclusionGroupKinds.Holdout, "user_id", "holdout-global",
                10, [new(held.Id, held.Key, 1)]),
        };
        var flags = new FlagSet(FlagBuilder.Build([one, two, held], groups, new Dictionary<Guid, IReadOnlyDictionary<string, double>>()).Select(b => b.Flag));
        int inOne = 0, inTwo = 0, heldOut = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var user = new EvaluationUser($"user-{i}");
            var a = Evaluate(flags, "mx-one", user)!.IsDefault;
            var b = Evaluate(flags, "mx-two", user)!.IsDefault;
            Assert.False(!a && !b, $"user-{i} is in both mutually exclusive experiments");
            inOne += a ? 0 : 1;
            inTwo += b ? 0 : 1;
            heldOut += Evaluate(flags, "held", user)!.IsDefault ? 1 : 0;
        }
        Assert.InRange(inOne, 9_500, 10_500);
        Assert.InRange(inTwo, 9_500, 10_500);
        Assert.InRange(heldOut, 1_800, 2_200);
    }

    [Fact]
    public void A_user_without_the_bucketing_value_gets_the_default_variant()
        => Assert.True(Evaluate(Compile(Experiment("no-id", [("a", 1), ("b", 1)])), "no-id", new EvaluationUser(null, "device-only"))!.IsDefault);

    internal static ExperimentConfig Experiment(string key, (string Key, double Weight)[] variants) => new(
        Guid.NewGuid(), "p", key, key, ExperimentStatuses.Running, false, "user_id", key, null, null, null,
        variants.Select(v => new VariantConfig(Guid.NewGuid(), v.Key, v.Key, v.Weight, null)).ToList());

    internal static FlagSet Compile(params ExperimentConfig[] experiments)
        => new(FlagBuilder.Build(experiments, [], new Dictionary<Guid, IReadOnlyDictionary<string, double>>()).Select(b => b.Flag));

    private static EvaluationResult? Evaluate(FlagSet flags, string key, EvaluationUser user)
        => flags.TryGetIndex(key, out var index) ? flags.Evaluate(user, index) : throw new KeyNotFoundException(key);

    private static Dictionary<string, int> Count(FlagSet flags, string key, int users)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < users; i++)
        {
            var variant = Evaluate(flags, key, new EvaluationUser($"user-{i}"))?.Key ?? "none";
            counts[variant] = counts.GetValueOrDefault(variant) + 1;
        }
        return counts;
    }

    private static double ChiSquare(Dictionary<string, int> counts, Dictionary<string, double> expected, int total)
    {
        Assert.Equal(expected.Keys.Order(), counts.Keys.Order());
        return expected.Sum(e => Math.Pow(counts[e.Key] - e.Value * total, 2) / (e.Value * total));
    }
}
