using System.Net;
using System.Text.Json.Nodes;
using Xunit;

namespace Experiments.TestInfrastructure.Http;

/// <summary>Assertions on HTTP answers that show the request and the body when they fail.</summary>
public static class HttpExpectations
{
    /// <summary>Asserts the status and returns the JSON body (an empty object when there is none).</summary>
    public static async Task<JsonNode> ExpectAsync(this Task<HttpResponseMessage> sending, HttpStatusCode status)
    {
        using var response = await sending;
        return await response.ExpectAsync(status);
    }

    public static async Task<JsonNode> ExpectAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status,
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}, expected {(int)status}: {body}");
        return string.IsNullOrEmpty(body) ? new JsonObject() : JsonNode.Parse(body)!;
    }
}

/// <summary>Waits for what an asynchronous pipeline will make true, failing with what was awaited.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }
            await Task.Delay(250);
        }
    }
}
