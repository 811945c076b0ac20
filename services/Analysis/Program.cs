using Experiments.Analysis.Extensions;
using Experiments.Analysis.Grpc;
using Experiments.Contracts.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<AnalysisGrpcService>();

app.Run();
