using Experiments.Gateway.Console.Models;

namespace Experiments.Gateway.Console.Services;

/// <summary>
/// The latest stored analysis result of the project's experiments (for "Winners found", the row badges and the drawer's
/// winner): one call to <c>GET /v1/admin/experiments/results</c>, which reads the analysis service's snapshots in
/// PostgreSQL. No analysis runs on a page load; a result appears once the analysis service has stored one (its schedule,
/// a change, or the final analysis after a stop).
/// </summary>
public sealed class ExperimentResults(AdminApiClient api)
{
    /// <summary>The results by experiment id; an empty map and the API's problem when it could not answer.</summary>
    public async Task<(IReadOnlyDictionary<Guid, LatestResultView> Results, ApiProblem? Problem)> LatestAsync(CancellationToken ct)
    {
        var answer = await api.LatestResultsAsync(ct);
        return answer.Value is { } body
            ? (body.Results.ToDictionary(r => r.ExperimentId), null)
            : (new Dictionary<Guid, LatestResultView>(), answer.Problem);
    }
}
