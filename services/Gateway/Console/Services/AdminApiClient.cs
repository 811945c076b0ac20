using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Gateway.Console.Models;

namespace Experiments.Gateway.Console.Services;

/// <summary>
/// The gateway's public admin API, called over HTTP like any other client, with the signed-in admin key.
/// Answers are returned as values or as the API's problem details (never thrown), so pages can show them.
/// </summary>
public sealed class AdminApiClient(HttpClient http, ConsoleSession session)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private const string Experiments = "/v1/admin/experiments";

    /// <summary>Checks a key against a project: 401 for a bad key, 403 for another project's key.</summary>
    public Task<ApiResult<List<ExperimentView>>> VerifyAsync(string projectId, string adminKey, CancellationToken ct)
        => SendAsync<List<ExperimentView>>(HttpMethod.Get, $"{Experiments}?project_id={Uri.EscapeDataString(projectId)}", null, adminKey, ct);

    public Task<ApiResult<List<ExperimentView>>> ListExperimentsAsync(CancellationToken ct)
        => SendAsync<List<ExperimentView>>(HttpMethod.Get, $"{Experiments}?project_id={Uri.EscapeDataString(session.ProjectId)}", null, null, ct);

    public Task<ApiResult<ExperimentView>> GetExperimentAsync(Guid id, CancellationToken ct)
        => SendAsync<ExperimentView>(HttpMethod.Get, $"{Experiments}/{id}", null, null, ct);

    public Task<ApiResult<ExperimentView>> CreateExperimentAsync(CreateExperimentBody body, CancellationToken ct)
        => SendAsync<ExperimentView>(HttpMethod.Post, Experiments, body, null, ct);

    public Task<ApiResult<ExperimentView>> AddVariantAsync(Guid id, AddVariantBody body, CancellationToken ct)
        => SendAsync<ExperimentView>(HttpMethod.Post, $"{Experiments}/{id}/variants", body, null, ct);

    public Task<ApiResult<ExperimentView>> LaunchAsync(Guid id, CancellationToken ct)
        => SendAsync<ExperimentView>(HttpMethod.Post, $"{Experiments}/{id}/launch", null, null, ct);

    public Task<ApiResult<ExperimentView>> StopAsync(Guid id, CancellationToken ct)
        => SendAsync<ExperimentView>(HttpMethod.Post, $"{Experiments}/{id}/stop", null, null, ct);

    /// <summary>The latest stored analysis result of the project's experiments (no analysis is run).</summary>
    public Task<ApiResult<LatestResultsView>> LatestResultsAsync(CancellationToken ct)
        => SendAsync<LatestResultsView>(HttpMethod.Get, $"{Experiments}/results?project_id={Uri.EscapeDataString(session.ProjectId)}", null, null, ct);

    public Task<ApiResult<JsonObject>> AnalyzeAsync(Guid id, AnalyzeBody body, CancellationToken ct)
        => SendAsync<JsonObject>(HttpMethod.Post, $"{Experiments}/{id}/analyze", body, null, ct);

    private const string Subscriptions = "/v1/admin/subscriptions";

    public Task<ApiResult<List<SubscriptionItem>>> ListSubscriptionsAsync(CancellationToken ct)
        => SendAsync<List<SubscriptionItem>>(HttpMethod.Get, $"{Subscriptions}?project_id={Uri.EscapeDataString(session.ProjectId)}", null, null, ct);

    public Task<ApiResult<SubscriptionItem>> CreateSubscriptionAsync(CreateSubscriptionBody body, CancellationToken ct)
        => SendAsync<SubscriptionItem>(HttpMethod.Post, Subscriptions, body, null, ct);

    public Task<ApiResult<JsonNode>> DeleteSubscriptionAsync(Guid id, CancellationToken ct)
        => SendAsync<JsonNode>(HttpMethod.Delete, $"{Subscriptions}/{id}", null, null, ct);

    public Task<ApiResult<DeliveryItem>> SendTestAsync(Guid id, CancellationToken ct)
        => SendAsync<DeliveryItem>(HttpMethod.Post, $"{Subscriptions}/{id}/test", null, null, ct);

    public Task<ApiResult<List<DeliveryItem>>> ListDeliveriesAsync(Guid? subscription, CancellationToken ct)
        => SendAsync<List<DeliveryItem>>(HttpMethod.Get, subscription is { } id ? $"{Subscriptions}/{id}/deliveries?limit=100" : $"{Subscriptions}/deliveries?limit=100", null, null, ct);

    public Task<ApiResult<DeliveryItem>> ReplayDeliveryAsync(Guid deliveryId, CancellationToken ct)
        => SendAsync<DeliveryItem>(HttpMethod.Post, $"{Subscriptions}/deliveries/{deliveryId}/replay", null, null, ct);

    /// <summary>Any GET of the admin API as JSON (for routes the console renders generically).</summary>
    public Task<ApiResult<JsonNode>> GetJsonAsync(string path, CancellationToken ct)
        => SendAsync<JsonNode>(HttpMethod.Get, path, null, null, ct);

    private async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, object? body, string? adminKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        var key = adminKey ?? session.Current?.AdminKey ?? throw new InvalidOperationException("Not signed in.");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            return new ApiResult<T>(default, ApiProblem.Unreachable(ex.Message));
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode)
            {
                return new ApiResult<T>(text.Length == 0 ? default : JsonSerializer.Deserialize<T>(text, Json), null);
            }
            return new ApiResult<T>(default, ReadProblem((int)response.StatusCode, text));
        }
    }

    private static ApiProblem ReadProblem(int status, string text)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject problem)
            {
                var errors = new Dictionary<string, string[]>();
                if (problem["errors"] is JsonObject fields)
                {
                    foreach (var (field, messages) in fields)
                    {
                        errors[field] = messages is JsonArray array
                            ? array.Select(m => m?.ToString() ?? "").ToArray()
                            : [messages?.ToString() ?? ""];
                    }
                }
                return new ApiProblem(status, (string?)problem["title"] ?? $"HTTP {status}", (string?)problem["detail"], errors);
            }
        }
        catch (JsonException)
        {
        }
        return new ApiProblem(status, $"HTTP {status}", text.Length > 300 ? text[..300] : text, ApiProblem.Empty);
    }
}
