using Experiments.Assignment.Evaluation;
using Experiments.Contracts.Assignment.V1;
using Experiments.Sdk.Evaluation;
using Grpc.Core;

namespace Experiments.Assignment.Grpc;

/// <summary>gRPC face of the evaluator, for the other services: one user, or many users in one call.</summary>
public sealed class AssignmentGrpcService(Evaluator evaluator) : AssignmentService.AssignmentServiceBase
{
    public const int MaxBatchUsers = 10_000;

    public override Task<EvaluateResponse> Evaluate(EvaluateRequest request, ServerCallContext context)
    {
        RequireProject(request.ProjectId);
        return Task.FromResult(EvaluateOne(request.ProjectId, request.User, "user", request.FlagKeys));
    }

    public override Task<EvaluateBatchResponse> EvaluateBatch(EvaluateBatchRequest request, ServerCallContext context)
    {
        RequireProject(request.ProjectId);
        if (request.Users.Count > MaxBatchUsers)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"users: at most {MaxBatchUsers} users per batch; this one has {request.Users.Count}."));
        }
        var response = new EvaluateBatchResponse();
        for (var i = 0; i < request.Users.Count; i++)
        {
            response.Results.Add(EvaluateOne(request.ProjectId, request.Users[i], $"users[{i}]", request.FlagKeys));
        }
        return Task.FromResult(response);
    }

    private static void RequireProject(string projectId)
    {
        if (string.IsNullOrWhiteSpace(projectId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "project_id is required."));
        }
    }

    private EvaluateResponse EvaluateOne(string projectId, User? user, string field, IReadOnlyCollection<string> flagKeys)
    {
        if (user is null || (string.IsNullOrEmpty(user.UserId) && string.IsNullOrEmpty(user.DeviceId)))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field}.user_id or {field}.device_id is required to bucket the user."));
        }

        var response = new EvaluateResponse();
        var evaluated = evaluator.Evaluate(projectId, new EvaluationUser(NullIfEmpty(user.UserId), NullIfEmpty(user.DeviceId),
            user.UserProperties.Count > 0 ? user.UserProperties : null, user.Groups.Count > 0 ? user.Groups : null), flagKeys);
        foreach (var a in evaluated)
        {
            response.Variants.Add(new Variant
            {
                FlagKey = a.FlagKey,
                Key = a.Key ?? "",
                Value = a.Value ?? a.Key ?? "",
                PayloadJson = a.PayloadJson ?? "",
                ExperimentId = evaluator.ExperimentIdOf(projectId, a)?.ToString() ?? "",
            });
        }
        return response;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
