# The whole chain (search, retraining, export, validation, packaging) and the tests, on CPU.
#   docker build -f docker/pipeline.Dockerfile -t s2d .
#   docker run -v /path/to/data:/data -v "$PWD/models:/src/models" -v "$PWD/runs:/src/runs" s2d
#   docker run -v /path/to/data:/data s2d bash -c 'scripts/slurm-one-node.sh up && dotnet cake --target=Test --data-root=/data'
# (the one-node Slurm is for the job-array test). /data holds cifar-10-batches-bin/, imagenette-64/, imagenet-sample/
# and nas-bench-201/ (see the README's Data section); runs/ keeps checkpoints, so
# a stopped container's run resumes when started again with the same volumes.
# x86-64 images (also on an arm64 host, emulated): s2d is built for linux-x64 (Directory.Build.props) with x64 natives.
FROM --platform=linux/amd64 mcr.microsoft.com/dotnet/sdk:10.0
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-onnx openmpi-bin libopenmpi-dev \
    slurmctld slurmd slurm-client munge g++ xz-utils fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
WORKDIR /src
COPY . .
RUN dotnet tool restore && dotnet cake --target=Build
CMD ["dotnet", "cake", "--target=Deploy", "--data-root=/data"]
