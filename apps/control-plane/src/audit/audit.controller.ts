import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuditPage, AuditQuery } from '@portcullis/api';
import { Roles } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { AuditService } from './audit.service.js';

class AuditQueryDto extends zodDto(AuditQuery) {}
class AuditPageDto extends zodDto(AuditPage, 'output') {}

@ApiTags('audit')
@Controller('audit')
@Roles('admin', 'auditor')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOkResponse({ type: AuditPageDto })
  list(@Query() query: AuditQueryDto): Promise<AuditPage> {
    return this.audit.list(query);
  }
}
