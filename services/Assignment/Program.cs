using Experiments.Assignment.Apis;
using Experiments.Assignment.Extensions;
using Experiments.Assignment.Grpc;
using Experiments.Contracts.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapEvaluationApi();
app.MapSdkApi();
app.MapGrpcService<AssignmentGrpcService>();

app.Run();
public partial class Program;
