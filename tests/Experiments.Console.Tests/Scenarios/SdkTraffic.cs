using System.Net;
using System.Net.Http.Json;

namespace Experiments.Console.Tests.Scenarios;

/// <summary>
/// Users through the SDK path: assignment (<c>POST /v1/evaluate</c> with the SDK key), then exposures
/// (<c>$exposure</c> with <c>event_properties.flag_key</c> and <c>variant</c>) and conversions posted to ingest.
/// Returns what each variant should show: distinct exposed users and converted users.
/// </summary>
public static class SdkTraffic
{
    public sealed record Expected(long Exposures, long Conversions)
    {
        public double Rate => (double)Conversions / Exposures;
    }

    public static async Task<IReadOnlyDictionary<string, Expected>> SendAsync(
        LaunchedPlatform platform, string flag, int users, Func<string, int, bool> converts, string conversionEvent)
    {
        using var assignment = platform.SdkClient(platform.Assignment);
        using var ingest = platform.SdkClient(platform.Ingest);

        await Eventually.TrueAsync(async () => await VariantOfAsync(assignment, "user-00000", flag) is not null, "assignment serves the launched experiment");
        var ids = Enumerable.Range(0, users).Select(i => $"user-{i:D5}").ToArray();
        var variants = new string[users];
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            variants[i] = await VariantOfAsync(assignment, ids[i], flag) ?? throw new InvalidOperationException($"{ids[i]} got no variant");
        });

        // After the launch (the analysis counts from the experiment's start), the conversion a moment later.
        var exposedAt = DateTimeOffset.UtcNow.AddSeconds(-2);
        var events = new List<object>();
        var counts = new Dictionary<string, (long Exposures, long Conversions)>();
        for (var i = 0; i < users; i++)
        {
            var variant = variants[i];
            events.Add(new
            {
                event_type = "$exposure", user_id = ids[i], time = exposedAt.ToUnixTimeMilliseconds(), insert_id = $"{ids[i]}-x",
                event_properties = new { flag_key = flag, variant },
            });
            var converted = converts(variant, i);
            if (converted)
            {
                events.Add(new { event_type = conversionEvent, user_id = ids[i], time = exposedAt.AddSeconds(1).ToUnixTimeMilliseconds(), insert_id = $"{ids[i]}-c" });
            }
            var (e, c) = counts.GetValueOrDefault(variant);
            counts[variant] = (e + 1, c + (converted ? 1 : 0));
        }
        foreach (var chunk in events.Chunk(500))
        {
            await ingest.PostAsJsonAsync("/v1/events", new { events = chunk }).ExpectAsync(HttpStatusCode.OK);
        }
        return counts.ToDictionary(kv => kv.Key, kv => new Expected(kv.Value.Exposures, kv.Value.Conversions));
    }

    private static async Task<string?> VariantOfAsync(HttpClient assignment, string user, string flag)
    {
        var answer = await assignment.PostAsJsonAsync("/v1/evaluate", new { user_id = user, flag_keys = new[] { flag } }).ExpectAsync(HttpStatusCode.OK);
        return (string?)answer["variants"]?[flag]?["key"];
    }
}
