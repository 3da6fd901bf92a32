import { create, toBinary, type DescFile, type DescService, type Registry, createRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "@taskmesh/proto/grpc/health/v1/health_pb.js";
import * as v1 from "@taskmesh/proto/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "@taskmesh/proto/grpc/reflection/v1alpha/reflection_pb.js";

type Api = typeof v1;

/**
 * gRPC server reflection (v1 and v1alpha) over the descriptors the process serves, so that
 * `grpcurl -plaintext host:port list` and `buf curl --reflect` work without .proto files.
 */
/** Every service a server answers: the hosted ones, health and reflection. */
export function servedServices(hosted: DescService[]): DescService[] {
  // Listed like grpc-go lists them: tools probe for health and reflection by name.
  return [...hosted, Health, v1.ServerReflection, v1alpha.ServerReflection];
}

export function reflectionRoutes(hosted: DescService[]): (router: ConnectRouter) => void {
  const services = servedServices(hosted);
  const files = new Map<string, DescFile>();
  const add = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(add);
  };
  for (const s of services) add(s.file);
  const registry = createRegistry(...files.values());
  const serviceNames = services.map((s) => s.typeName);

  return (router) => {
    for (const api of [v1, v1alpha] as Api[]) {
      router.service(api.ServerReflection, {
        serverReflectionInfo: async function* (requests) {
          for await (const request of requests) yield answer(api, request, files, registry, serviceNames);
        },
      });
    }
  };
}

function answer(api: Api, request: v1.ServerReflectionRequest, files: Map<string, DescFile>, registry: Registry, serviceNames: string[]): v1.ServerReflectionResponse {
  const base = { validHost: request.host, originalRequest: request };
  const notFound = (what: string) =>
    create(api.ServerReflectionResponseSchema, {
      ...base,
      messageResponse: { case: "errorResponse", value: create(api.ErrorResponseSchema, { errorCode: 5, errorMessage: `${what} not found` }) },
    });
  const withFile = (file: DescFile | undefined, what: string) => {
    if (!file) return notFound(what);
    // The requested file first, then its transitive imports, as grpc-go's reflection does.
    const ordered = new Map<string, DescFile>();
    const visit = (f: DescFile): void => {
      if (ordered.has(f.proto.name)) return;
      ordered.set(f.proto.name, f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return create(api.ServerReflectionResponseSchema, {
      ...base,
      messageResponse: {
        case: "fileDescriptorResponse",
        value: create(api.FileDescriptorResponseSchema, {
          fileDescriptorProto: [...ordered.values()].map((f) => toBinary(FileDescriptorProtoSchema, f.proto)),
        }),
      },
    });
  };

  const req = request.messageRequest;
  switch (req.case) {
    case "listServices":
      return create(api.ServerReflectionResponseSchema, {
        ...base,
        messageResponse: {
          case: "listServicesResponse",
          value: create(api.ListServiceResponseSchema, {
            service: serviceNames.map((name) => create(api.ServiceResponseSchema, { name })),
          }),
        },
      });
    case "fileByFilename":
      return withFile(files.get(req.value), `file "${req.value}"`);
    case "fileContainingSymbol": {
      const symbol = req.value;
      const direct = registry.get(symbol);
      // Methods are not registry entries: look up their service.
      const owner = direct ?? registry.getService(symbol.slice(0, symbol.lastIndexOf(".")));
      const file = owner && "file" in owner ? owner.file : undefined;
      return withFile(file, `symbol "${symbol}"`);
    }
    case "fileContainingExtension": {
      const ext = registry.getExtensionFor(registry.getMessage(req.value.containingType) ?? (undefined as never), req.value.extensionNumber);
      return withFile(ext?.file, `extension ${req.value.containingType}(${req.value.extensionNumber})`);
    }
    case "allExtensionNumbersOfType": {
      const numbers: number[] = [];
      for (const type of registry) if (type.kind === "extension" && type.extendee.typeName === req.value) numbers.push(type.number);
      return create(api.ServerReflectionResponseSchema, {
        ...base,
        messageResponse: {
          case: "allExtensionNumbersResponse",
          value: create(api.ExtensionNumberResponseSchema, { baseTypeName: req.value, extensionNumber: numbers }),
        },
      });
    }
    default:
      return notFound("request kind");
  }
}
