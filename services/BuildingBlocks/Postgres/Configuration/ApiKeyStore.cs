using System.Collections.Concurrent;
using Npgsql;

namespace Experiments.Postgres.Configuration;

/// <summary>
/// Resolves presented keys against the gateway's <c>gateway.api_keys</c> (read-only for every other
/// service). Answers are cached briefly so that hot paths (ingest, assignment) don't query per request,
/// and the last good answer is kept while PostgreSQL is away.
/// </summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (ApiKeyOwner? Owner, DateTimeOffset At)> _cache = new(StringComparer.Ordinal);

    public async ValueTask<ApiKeyOwner?> FindAsync(string? presentedKey, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(presentedKey) || presentedKey.Length > 512)
        {
            return null;
        }

        var hash = ApiKeyHasher.Hash(presentedKey.Trim());
        var now = timeProvider.GetUtcNow();
        if (_cache.TryGetValue(hash, out var cached) && now - cached.At < Fresh)
        {
            return cached.Owner;
        }

        try
        {
            await using var command = dataSource.CreateCommand(
                "SELECT project_id, kind FROM gateway.api_keys WHERE key_hash = @hash AND revoked_at IS NULL");
            command.Parameters.AddWithValue("hash", hash);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var owner = await reader.ReadAsync(cancellationToken) ? new ApiKeyOwner(reader.GetString(0), reader.GetString(1)) : null;
            _cache[hash] = (owner, now);
            return owner;
        }
        catch (NpgsqlException) when (cached.At != default)
        {
            return cached.Owner;
        }
    }
}
