using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Experiments.ClickHouse;
using Experiments.Ingest.LoadGenerator;
using Experiments.Postgres.Configuration;
using Experiments.TestInfrastructure.Networking;
using Experiments.TestInfrastructure.Processes;
using Experiments.TestInfrastructure.Servers;
using Npgsql;

// Ingest load generator: starts its own RabbitMQ and ClickHouse and the ingest service (this build's configuration)
// with a fresh project, posts realistic Amplitude-shaped batches to /2/httpapi from concurrent clients, and measures
//   * end to end: the first post until every event is visible in ClickHouse;
//   * request latency (p50/p99) of the 200s;
//   * the raw ClickHouse RowBinary insert rate of the same rows on this machine (the ceiling), in the same run.
var options = LoadOptions.Parse(args);
Console.WriteLine($"ingest load: {options.Events:N0} events in batches of {options.BatchSize}, {options.Concurrency} concurrent clients, "
    + $"{options.ExposureShare:P0} exposures; configuration {ServiceProcess.BuildConfiguration}");

// RabbitMQ and ClickHouse of this run's own (servers.sh, another state folder and ports): no other ingest process
// (a running AppHost, the end-to-end tests) consumes its queue, and nothing else loads its ClickHouse.
// PostgreSQL (only the key lookup) is the shared one.
await using var dedicated = await DedicatedServers.StartAsync("ingestload");
var servers = dedicated.Connections;
var projectId = "load-" + Guid.NewGuid().ToString("N")[..8];
var sdkKey = "load-key-" + Guid.NewGuid().ToString("N");
await using var postgres = await PostgresDatabase.CreateAsync("ingestload");
await using (var connection = new NpgsqlConnection(postgres.ConnectionString))
{
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand("""
        CREATE SCHEMA gateway;
        CREATE TABLE gateway.api_keys (key_hash text PRIMARY KEY, project_id text NOT NULL, kind text NOT NULL, revoked_at timestamptz);
        INSERT INTO gateway.api_keys (key_hash, project_id, kind) VALUES (@key, @project, 'sdk');
        """, connection);
    command.Parameters.AddWithValue("key", ApiKeyHasher.Hash(sdkKey));
    command.Parameters.AddWithValue("project", projectId);
    await command.ExecuteNonQueryAsync();
}
var database = UniqueNames.Database("ingestload");
var clickHouse = new ClickHouseClient(new HttpClient { Timeout = TimeSpan.FromMinutes(5) }, servers.ClickHouseFor(database));
var url = $"http://127.0.0.1:{FreePort.Next()}";
var serviceEnvironment = new Dictionary<string, string>
{
    ["ConnectionStrings__postgres"] = postgres.ConnectionString,
    ["ConnectionStrings__rabbitmq"] = servers.RabbitMq,
    ["ConnectionStrings__clickhouse"] = servers.ClickHouseFor(database),
    ["Kestrel__Endpoints__Http__Url"] = url,
    ["Logging__LogLevel__Default"] = "Warning",
    ["DOTNET_ENVIRONMENT"] = "Production",
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
};
// Pipeline settings to try (Ingest__MessagesPerInsert=200, ...) pass through to the service.
foreach (var entry in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>())
{
    if (entry.Key is string name && name.StartsWith("Ingest__", StringComparison.Ordinal) && entry.Value is string value)
    {
        serviceEnvironment[name] = value;
        Console.WriteLine($"service setting {name}={value}");
    }
}
await using var ingest = new ServiceProcess("Ingest", serviceEnvironment);
try
{
    ingest.Start();
    await ingest.WaitUntilAnswersAsync($"{url}/health", TimeSpan.FromSeconds(90));

    var generator = new EventBodies(options, sdkKey);
    var generation = Stopwatch.StartNew();
    var warmup = generator.Bodies("warm", Math.Max(1, options.Concurrency * 4));
    var bodies = generator.Bodies("run", options.Events / options.BatchSize);
    var totalEvents = bodies.Count * options.BatchSize;
    Console.WriteLine($"generated {bodies.Count:N0} bodies ({bodies.Sum(b => (long)b.Length) / 1024.0 / 1024.0:N0} MiB, "
        + $"{bodies.Sum(b => (long)b.Length) / (double)totalEvents:N0} bytes/event) in {generation.Elapsed.TotalSeconds:N1} s");

    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency * 2 })
    {
        BaseAddress = new Uri(url),
        Timeout = TimeSpan.FromSeconds(60),
    };
    await Post(http, warmup, options.Concurrency);
    await WaitVisibleAsync(clickHouse, projectId, warmup.Count * (long)options.BatchSize, TimeSpan.FromMinutes(2));
    var before = await VisibleAsync(clickHouse, projectId);

    var run = Stopwatch.StartNew();
    var posted = await Post(http, bodies, options.Concurrency);
    var postSeconds = run.Elapsed.TotalSeconds;
    var visible = await WaitVisibleAsync(clickHouse, projectId, before + totalEvents, TimeSpan.FromMinutes(5));
    var endToEndSeconds = run.Elapsed.TotalSeconds;
    if (visible < before + totalEvents)
    {
        Console.WriteLine($"ERROR: only {visible - before:N0} of {totalEvents:N0} events became visible.");
        return 1;
    }

    var latencies = posted.Latencies.Order().ToArray();
    double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
    var endToEnd = totalEvents / endToEndSeconds;
    Console.WriteLine();
    Console.WriteLine($"end to end      {endToEnd,12:N0} events/s   ({totalEvents:N0} events posted until visible in ClickHouse in {endToEndSeconds:N2} s)");
    Console.WriteLine($"accepted (200)  {totalEvents / postSeconds,12:N0} events/s   (all posts answered in {postSeconds:N2} s; {posted.Retries} retried after 429/503)");
    Console.WriteLine($"latency         p50 {Percentile(0.50):N1} ms   p99 {Percentile(0.99):N1} ms   max {latencies[^1]:N1} ms   ({latencies.Length:N0} requests of {options.BatchSize} events)");

    var raw = await RawInsert.MeasureAsync(clickHouse, totalEvents, options);
    Console.WriteLine($"raw ClickHouse  {raw,12:N0} rows/s     (RowBinary, {options.RawInsertRows:N0} rows per insert, 2 inserts at once, same rows and columns)");
    Console.WriteLine($"ratio           {endToEnd / raw,12:P1} of the raw insert rate");
    return 0;
}
finally
{
    await ingest.StopAsync(TimeSpan.FromSeconds(10));
    await clickHouse.WithDatabase("default").ExecuteAsync(ClickHouseSql.Format($"DROP DATABASE IF EXISTS {ClickHouseSql.Identifier(database)}"));
}

static async Task<(List<double> Latencies, int Retries)> Post(HttpClient http, IReadOnlyList<byte[]> bodies, int concurrency)
{
    var next = -1;
    var retries = 0;
    var latencies = new List<double>[concurrency];
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
    {
        var mine = latencies[worker] = [];
        int index;
        while ((index = Interlocked.Increment(ref next)) < bodies.Count)
        {
            while (true)
            {
                using var content = new ByteArrayContent(bodies[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("/2/httpapi", content);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    break;
                }
                if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
                {
                    throw new InvalidOperationException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
                Interlocked.Increment(ref retries);
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
            }
        }
    })));
    return (latencies.SelectMany(l => l).ToList(), retries);
}

static async Task<long> VisibleAsync(ClickHouseClient clickHouse, string projectId)
{
    try
    {
        return await clickHouse.QueryScalarAsync<long>(ClickHouseSql.Format(
            $"SELECT (SELECT count() FROM exposures WHERE project_id = {projectId}) + (SELECT count() FROM events WHERE project_id = {projectId})"));
    }
    catch (ClickHouseException)
    {
        return 0; // the tables are created by the service at start
    }
}

static async Task<long> WaitVisibleAsync(ClickHouseClient clickHouse, string projectId, long expected, TimeSpan timeout)
{
    var deadline = DateTime.UtcNow + timeout;
    long seen;
    while ((seen = await VisibleAsync(clickHouse, projectId)) < expected && DateTime.UtcNow < deadline)
    {
        await Task.Delay(50);
    }
    return seen;
}

namespace Experiments.Ingest.LoadGenerator
{
    internal sealed record LoadOptions(int Events, int BatchSize, int Concurrency, double ExposureShare, int RawInsertRows)
    {
        public static LoadOptions Parse(string[] args)
        {
            int Int(string name, int fallback)
            {
                var i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
            }
            if (args.Contains("--help"))
            {
                Console.WriteLine("dotnet run -c Release --project tests/Experiments.Ingest.LoadGenerator -- [--events 4000000] [--batch 1000] [--concurrency 128] [--raw-rows 200000]");
                Environment.Exit(0);
            }
            return new LoadOptions(Int("--events", 4_000_000), Int("--batch", 1000), Int("--concurrency", 128), 0.2, Int("--raw-rows", 200_000));
        }
    }

    /// <summary>
    /// Amplitude-shaped events as analytics SDKs send them (insert id, session, library, platform, OS, a few event and
    /// user properties); a fifth are <c>$exposure</c> events. Every event has its own insert id.
    /// </summary>
    internal sealed class EventBodies(LoadOptions options, string apiKey)
    {
        private static readonly string[] Types = ["page_view", "add_to_cart", "purchase", "search", "signup"];
        private readonly long _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public IReadOnlyList<byte[]> Bodies(string run, int count)
        {
            var bodies = new byte[count][];
            Parallel.For(0, count, b => bodies[b] = Body(run, b));
            return bodies;
        }

        private byte[] Body(string run, int batch)
        {
            var json = new StringBuilder(options.BatchSize * 420);
            json.Append("{\"api_key\":\"").Append(apiKey).Append("\",\"events\":[");
            for (var i = 0; i < options.BatchSize; i++)
            {
                var n = (long)batch * options.BatchSize + i;
                if (i > 0)
                {
                    json.Append(',');
                }
                var user = n % 100_000;
                json.Append("{\"user_id\":\"user-").Append(user).Append("\",\"device_id\":\"device-").Append(user * 7 % 1_000_003)
                    .Append("\",\"time\":").Append(_now - n % 600_000)
                    .Append(",\"insert_id\":\"").Append(run).Append('-').Append(batch).Append('-').Append(i).Append("-5f3c2b1a")
                    .Append("\",\"session_id\":").Append(_now - user * 1000).Append(",\"event_id\":").Append(i)
                    .Append(",\"library\":\"amplitude-node/1.5.73\",\"platform\":\"Web\",\"os_name\":\"Chrome\",\"os_version\":\"126\",\"language\":\"en-US\",\"ip\":\"$remote\"");
                if (n % 5 == 0)
                {
                    json.Append(",\"event_type\":\"$exposure\",\"event_properties\":{\"flag_key\":\"checkout-button-color\",\"variant\":\"")
                        .Append(user % 2 == 0 ? "control" : "treatment").Append("\"}");
                }
                else
                {
                    json.Append(",\"event_type\":\"").Append(Types[n % Types.Length])
                        .Append("\",\"event_properties\":{\"path\":\"/products/").Append(n % 977).Append("\",\"price\":").Append(n % 200).Append(".99,\"currency\":\"EUR\"}");
                }
                json.Append(",\"user_properties\":{\"plan\":\"").Append(user % 3 == 0 ? "pro" : "free").Append("\",\"country\":\"DE\"}}");
            }
            json.Append("],\"options\":{\"min_id_length\":1}}");
            return Encoding.UTF8.GetBytes(json.ToString());
        }
    }

    /// <summary>
    /// The ceiling: the same number of rows of the same columns straight into ClickHouse as RowBinary, encoded
    /// before the clock starts, two inserts at once, into a copy of the events table.
    /// </summary>
    internal static class RawInsert
    {
        private static readonly string[] Columns =
            ["project_id", "event_type", "user_id", "device_id", "time", "insert_id", "event_properties", "user_properties", "platform", "os_name", "received_at"];

        public static async Task<double> MeasureAsync(ClickHouseClient clickHouse, long rows, LoadOptions options)
        {
            await clickHouse.ExecuteAsync(ClickHouseSql.Raw("CREATE TABLE raw_events AS events"));
            var chunks = Enumerable.Range(0, (int)Math.Ceiling(rows / (double)options.RawInsertRows)).AsParallel().AsOrdered()
                .Select(chunk => Encode((long)chunk * options.RawInsertRows, (int)Math.Min(options.RawInsertRows, rows - (long)chunk * options.RawInsertRows)))
                .ToArray();
            var next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                int chunk;
                while ((chunk = Interlocked.Increment(ref next)) < chunks.Length)
                {
                    var (bytes, count) = chunks[chunk];
                    await clickHouse.InsertAsync("raw_events", Columns, (w, ct) => w.WriteRowsAsync(bytes, count, ct));
                }
            })));
            return rows / clock.Elapsed.TotalSeconds;
        }

        private static (byte[] Bytes, int Rows) Encode(long first, int count)
        {
            var seconds = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            using var buffer = new MemoryStream(count * 200);
            void String(string value)
            {
                var bytes = Encoding.UTF8.GetBytes(value);
                var length = (ulong)bytes.Length;
                while (length >= 0x80)
                {
                    buffer.WriteByte((byte)(length | 0x80));
                    length >>= 7;
                }
                buffer.WriteByte((byte)length);
                buffer.Write(bytes);
            }
            void DateTime() => buffer.Write(BitConverter.GetBytes(seconds));
            for (var n = first; n < first + count; n++)
            {
                var user = n % 100_000;
                String("raw-project");
                String(n % 5 == 0 ? "$exposure" : "purchase");
                String($"user-{user}");
                String($"device-{user * 7 % 1_000_003}");
                DateTime();
                String($"raw-{n}-5f3c2b1a");
                String($"{{\"path\":\"/products/{n % 977}\",\"price\":{n % 200}.99,\"currency\":\"EUR\"}}");
                String(user % 3 == 0 ? "{\"plan\":\"pro\",\"country\":\"DE\"}" : "{\"plan\":\"free\",\"country\":\"DE\"}");
                String("Web");
                String("Chrome");
                DateTime();
            }
            return (buffer.ToArray(), count);
        }
    }
}
