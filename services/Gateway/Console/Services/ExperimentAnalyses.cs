using Experiments.Gateway.Console.Models;

namespace Experiments.Gateway.Console.Services;

/// <summary>
/// The latest analysis of the experiments a page shows (for "Winners found" and the drawer's winner and Thompson
/// figures): a few at a time, each bounded in time, drafts skipped. Through the public analyze route.
/// </summary>
public sealed class ExperimentAnalyses(AdminApiClient api)
{
    public const int MaxAnalysed = 25;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(8);

    public async Task<IReadOnlyDictionary<Guid, AnalysisView>> LatestAsync(IEnumerable<ExperimentView> experiments, CancellationToken ct)
    {
        var candidates = experiments.Where(e => e.Status != "draft").OrderByDescending(e => e.CreatedAt).Take(MaxAnalysed).ToList();
        var results = new System.Collections.Concurrent.ConcurrentDictionary<Guid, AnalysisView>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Budget);
        try
        {
            await Parallel.ForEachAsync(candidates, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = timeout.Token }, async (e, token) =>
            {
                var answer = await api.AnalyzeAsync(e.Id, new AnalyzeBody(null, null, null), token);
                if (answer.Value is { } json)
                {
                    results[e.Id] = new AnalysisView(json);
                }
            });
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Out of time: the cards show what was analysed.
        }
        return results;
    }
}
