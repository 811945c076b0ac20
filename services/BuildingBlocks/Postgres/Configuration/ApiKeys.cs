using System.Security.Cryptography;
using System.Text;

namespace Experiments.Postgres.Configuration;

/// <summary>The two kinds of key a project has: admin keys for /v1/admin, SDK keys for assignment and ingest.</summary>
public static class ApiKeyKinds
{
    public const string Admin = "admin";
    public const string Sdk = "sdk";
}

/// <summary>Keys are stored only as SHA-256 hashes; this is the one place that hashes them.</summary>
public static class ApiKeyHasher
{
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

/// <summary>The project a presented key belongs to, and its kind.</summary>
public sealed record ApiKeyOwner(string ProjectId, string Kind);
