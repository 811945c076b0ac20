using System.Net;
using System.Net.Http.Json;

namespace Experiments.TestInfrastructure.Http;

/// <summary>Steps through the gateway's admin API that many tests take before the part they test.</summary>
public static class AdminApi
{
    /// <summary>
    /// Creates an experiment (primary metric: unique <c>purchase</c> conversions) with the given variants (name,
    /// traffic weight; control and treatment at 50/50 when none) and launches it. Returns its id and flag key.
    /// </summary>
    public static async Task<(string Id, string Key)> CreateLaunchedExperimentAsync(
        this HttpClient admin, string projectId, string name, params (string Name, int Weight)[] variants)
    {
        var created = await admin.PostAsJsonAsync("/v1/admin/experiments", new
        {
            name,
            project_id = projectId,
            primary_metric = new { event_type = "purchase" },
        }).ExpectAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        foreach (var (variant, weight) in variants.Length == 0 ? [("control", 50), ("treatment", 50)] : variants)
        {
            await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/variants", new { name = variant, traffic_weight = weight }).ExpectAsync(HttpStatusCode.Created);
        }
        await admin.PostAsync($"/v1/admin/experiments/{id}/launch", null).ExpectAsync(HttpStatusCode.OK);
        return (id, (string)created["key"]!);
    }
}
