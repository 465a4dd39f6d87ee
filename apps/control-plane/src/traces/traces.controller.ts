import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/index.js';
import { TracesService, type TraceView } from './traces.service.js';

/** One workflow across protocols: `GET /api/v1/traces/:id` (W3C trace id or x-portcullis-trace). */
@ApiTags('traces')
@Roles('admin', 'auditor')
@Controller('traces')
export class TracesController {
  constructor(private readonly traces: TracesService) {}

  @Get(':id')
  get(@Param('id') id: string): Promise<TraceView> {
    return this.traces.get(id);
  }
}
