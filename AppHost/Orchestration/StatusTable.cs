using System.Text;

namespace Experiments.AppHost.Orchestration;

/// <summary>The one table a newcomer reads: what runs where, the keys, and a first command to try.</summary>
public static class StatusTable
{
    public static string Render(
        IReadOnlyDictionary<string, ServiceOptions> services, IReadOnlyDictionary<string, string> connections, PlatformOptions options, string? demoId)
    {
        var table = new StringBuilder();
        table.AppendLine();
        table.AppendLine("Experiments platform is running. Ctrl-C stops everything this run started.");
        table.AppendLine();
        table.AppendLine($"  {"service",-14} {"http",-24} {"grpc (HTTP/2)",-24} health");
        foreach (var (name, service) in services)
        {
            table.AppendLine($"  {name,-14} {Platform.HttpUrl(service),-24} {Platform.GrpcUrl(service) ?? "-",-24} {Platform.HttpUrl(service)}/health");
        }
        table.AppendLine();
        foreach (var (name, connection) in connections)
        {
            var shown = name == "postgres" ? Platform.WithDatabase(connection, options.PostgresDatabase)
                : name == "clickhouse" ? Platform.WithDatabase(connection, options.ClickHouseDatabase) : connection;
            table.AppendLine($"  {name,-14} {shown}");
        }
        if (options.SeedProject)
        {
            table.AppendLine();
            table.AppendLine($"  project '{options.ProjectId}': admin key '{options.AdminKey}', SDK key '{options.SdkKey}'");
        }
        if (demoId is not null)
        {
            var gateway = Platform.HttpUrl(services["gateway"]);
            table.AppendLine($"  demo experiment {demoId}; analyze it:");
            table.AppendLine($"    curl -s -X POST -H 'Authorization: Bearer {options.AdminKey}' {gateway}/v1/admin/experiments/{demoId}/analyze");
        }
        return table.ToString();
    }
}
