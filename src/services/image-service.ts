// PLACEHOLDER: replaced by the real service.

export class ImageService {
  constructor(readonly uploadDir: string) {}}
