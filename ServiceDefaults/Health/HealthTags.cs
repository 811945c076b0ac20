namespace Experiments.ServiceDefaults.Health;

public static class HealthTags
{
    /// <summary>Checks that say the process itself is alive (no dependencies).</summary>
    public const string Live = "live";
}
