using Polly;

namespace Experiments.ServiceDefaults.Resilience;

/// <summary>Runs each outgoing request through a Polly pipeline.</summary>
public sealed class ResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(ResilienceExtensions.RequestKey, request);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) =>
                    await state.handler.SendCoreAsync(state.request, ctx.CancellationToken).ConfigureAwait(ctx.ContinueOnCapturedContext),
                context,
                (handler: this, request));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => base.SendAsync(request, cancellationToken);
}
