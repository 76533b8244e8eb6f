# s2d serve on ONNX Runtime only (no libtorch): about 55 MB of program on the ASP.NET runtime image.
#   docker build -f docker/serve.Dockerfile -t s2d-serve .
#   docker run -p 8080:8080 -v "$PWD/models:/models:ro" s2d-serve --model /models/imagenet/model.onnx
# For CUDA: base the last stage on an image with the CUDA 13 and cuDNN 9 runtimes and the .NET runtime, pass
# --keep-cuda to the prune script, and run with --gpus all (the server picks the CUDA provider when it loads).
# x86-64 images (also on an arm64 host, emulated): s2d is built for linux-x64 (Directory.Build.props) with x64 natives.
FROM --platform=linux/amd64 mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/SearchToDeploy.Cli -c Release -r linux-x64 --self-contained false -o /out \
 && scripts/prune-for-serve.sh /out

FROM --platform=linux/amd64 mcr.microsoft.com/dotnet/aspnet:10.0
COPY --from=build /out /app
USER app
EXPOSE 8080
HEALTHCHECK CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /v2/health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/app/s2d", "serve", "--urls", "http://0.0.0.0:8080"]
CMD ["--model", "/models/imagenet/model.onnx"]
