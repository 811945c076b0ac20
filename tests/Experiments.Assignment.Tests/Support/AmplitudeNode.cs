using System.Text.Json;
using Experiments.TestInfrastructure.Processes;

namespace Experiments.Assignment.Tests.Support;

/// <summary>
/// Runs Amplitude's real <c>@amplitude/experiment-node-server</c> (amplitude/, pinned by package-lock.json)
/// through <see cref="NodeScripts"/>: <c>npm ci</c> once when node_modules is missing, then evaluate.js.
/// </summary>
public static class AmplitudeNode
{
    private static readonly NodeScripts Scripts = new(
        RepositoryRoot.Combine("tests", "Experiments.Assignment.Tests", "amplitude"), "@amplitude/experiment-node-server");

    public static async Task<JsonElement> EvaluateAsync(string serverUrl, string deploymentKey, IEnumerable<object> users)
    {
        var usersFile = Path.Combine(Path.GetTempPath(), $"amp-users-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(usersFile, JsonSerializer.Serialize(users));
        try
        {
            var output = await Scripts.RunAsync("evaluate.js", [serverUrl, deploymentKey, usersFile], TimeSpan.FromSeconds(90));
            return JsonDocument.Parse(output).RootElement.Clone();
        }
        finally
        {
            File.Delete(usersFile);
        }
    }
}
