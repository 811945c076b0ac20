using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Experiments.Contracts.Grpc;
using Experiments.Contracts.Tests.Interop;
using Experiments.Contracts.Tests.Support;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Experiments.Contracts.Tests;

public sealed class TlsTests
{
    [Fact]
    public async Task Unary_call_works_over_https_with_h2_negotiated_by_alpn()
    {
        using var certificate = SelfSigned();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenGrpc(0, configure: listen => listen.UseHttps(certificate)));
        builder.Services.AddGrpc();
        await using var app = builder.Build();
        app.MapGrpcService<EchoService>();
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;
        var handler = GrpcHttpChannel.CreateDefaultHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString();
        using var channel = GrpcHttpChannel.ForAddress($"https://localhost:{port}", new GrpcHttpChannelOptions { HttpHandler = handler });

        var reply = await new Echo.EchoClient(channel).UnaryAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8("over tls") });

        Assert.Equal("over tls", reply.Payload.ToStringUtf8());
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
