using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Grpc.Core;

namespace Experiments.Contracts.Grpc;

/// <summary>Length-prefixed messages: a compressed flag byte, a 4-byte big-endian length, then the payload.</summary>
internal static class GrpcMessageFrame
{
    /// <summary>Serializes one message, prefix included, through the method's marshaller.</summary>
    public static ReadOnlyMemory<byte> Write<T>(Marshaller<T> marshaller, T message, int? maxSendMessageSize)
    {
        var context = new FrameSerializationContext();
        marshaller.ContextualSerializer(message, context);
        var frame = context.GetFrame();
        var payloadLength = frame.Length - GrpcProtocol.FrameHeaderSize;
        if (payloadLength > maxSendMessageSize)
        {
            throw new RpcException(new Status(
                StatusCode.ResourceExhausted,
                $"Sending message exceeds the maximum configured message size ({payloadLength} > {maxSendMessageSize})."));
        }

        return frame;
    }

    /// <summary>Reads the prefix of a frame; <paramref name="length"/> is the payload's length.</summary>
    public static void ReadHeader(ReadOnlySequence<byte> buffer, out bool compressed, out uint length)
    {
        Span<byte> header = stackalloc byte[GrpcProtocol.FrameHeaderSize];
        buffer.Slice(0, GrpcProtocol.FrameHeaderSize).CopyTo(header);
        compressed = header[0] != 0;
        length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }

    public static T Read<T>(Marshaller<T> marshaller, ReadOnlySequence<byte> payload) =>
        marshaller.ContextualDeserializer(new SequenceDeserializationContext(payload));

    private sealed class FrameSerializationContext : SerializationContext
    {
        private readonly ArrayBufferWriter<byte> _writer = new();
        private int? _declaredLength;
        private bool _completed;

        public FrameSerializationContext()
        {
            _writer.GetSpan(GrpcProtocol.FrameHeaderSize);
            _writer.Advance(GrpcProtocol.FrameHeaderSize);
        }

        public override void SetPayloadLength(int payloadLength) => _declaredLength = payloadLength;

        public override IBufferWriter<byte> GetBufferWriter() => _writer;

        public override void Complete(byte[] payload)
        {
            _writer.Write(payload);
            _completed = true;
        }

        public override void Complete() => _completed = true;

        public ReadOnlyMemory<byte> GetFrame()
        {
            if (!_completed)
            {
                throw new InvalidOperationException("The marshaller did not complete the serialization context.");
            }

            var frame = _writer.WrittenMemory;
            var payloadLength = frame.Length - GrpcProtocol.FrameHeaderSize;
            if (_declaredLength is { } declared && declared != payloadLength)
            {
                throw new InvalidOperationException($"The marshaller declared {declared} bytes but wrote {payloadLength}.");
            }

            var header = MemoryMarshal.AsMemory(frame).Span;
            header[0] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)payloadLength);
            return frame;
        }
    }

    private sealed class SequenceDeserializationContext(ReadOnlySequence<byte> payload) : DeserializationContext
    {
        public override int PayloadLength => checked((int)payload.Length);

        public override byte[] PayloadAsNewBuffer() => payload.ToArray();

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => payload;
    }
}
