using Experiments.Gateway.Apis;
using Experiments.Gateway.Console;
using Experiments.Gateway.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddAdminConsole();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapOpenApi();
app.MapExperimentsApi();
app.MapAnalysisApi();
app.MapMetricsApi();
app.MapSubscriptionsApi();
app.MapTargetingApi();
app.MapAdminConsole();

app.Run();
