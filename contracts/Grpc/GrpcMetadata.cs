using System.Net.Http.Headers;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Experiments.Contracts.Grpc;

/// <summary>Maps call metadata to HTTP/2 headers and back; <c>-bin</c> values travel as base64.</summary>
internal static class GrpcMetadata
{
    public static string ToHeaderValue(Metadata.Entry entry) =>
        entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes).TrimEnd('=') : entry.Value;

    public static void AddTo(Metadata? metadata, HttpRequestHeaders headers)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var entry in metadata)
        {
            if (!GrpcProtocol.IsReservedHeader(entry.Key))
            {
                headers.TryAddWithoutValidation(entry.Key, ToHeaderValue(entry));
            }
        }
    }

    public static void AddTo(Metadata? metadata, IHeaderDictionary headers)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var entry in metadata)
        {
            if (!GrpcProtocol.IsReservedHeader(entry.Key))
            {
                headers.Append(entry.Key, ToHeaderValue(entry));
            }
        }
    }

    public static Metadata FromHeaders(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers, Metadata? into = null)
    {
        var metadata = into ?? [];
        foreach (var (name, values) in headers)
        {
            AddValues(metadata, name, values);
        }

        return metadata;
    }

    public static Metadata FromHeaders(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            AddValues(metadata, name, values);
        }

        return metadata;
    }

    private static void AddValues(Metadata metadata, string name, IEnumerable<string?> values)
    {
        if (GrpcProtocol.IsReservedHeader(name))
        {
            return;
        }

        var key = name.ToLowerInvariant();
        var binary = key.EndsWith(GrpcProtocol.BinaryHeaderSuffix, StringComparison.Ordinal);
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }

            if (!binary)
            {
                metadata.Add(key, value);
                continue;
            }

            // Several binary values may arrive joined by commas; base64 never contains one.
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (TryDecodeBase64(part, out var bytes))
                {
                    metadata.Add(key, bytes);
                }
            }
        }
    }

    /// <summary>Accepts padded and unpadded base64, as the spec requires of receivers.</summary>
    private static bool TryDecodeBase64(string value, out byte[] bytes)
    {
        var padded = (value.Length % 4) switch
        {
            2 => value + "==",
            3 => value + "=",
            _ => value,
        };

        try
        {
            bytes = Convert.FromBase64String(padded);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
